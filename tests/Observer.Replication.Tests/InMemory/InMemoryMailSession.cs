using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Observer.Mail;

namespace Observer.Replication.Tests.InMemory;

/// <summary>
/// A session on an <see cref="InMemoryMailServer"/>, keeping the contract real sessions keep: commands on
/// the selected folder, UIDs never reused, VANISHED and CHANGEDSINCE only where the features allow, news
/// only once watching began, and every command refused with a connection error once the link is cut.
/// </summary>
public sealed class InMemoryMailSession : IMailSession
{
    private readonly InMemoryMailServer _server;
    private readonly Channel<MailEvent> _events = Channel.CreateUnbounded<MailEvent>();
    private InMemoryMailbox? _selected;
    private bool _readOnly;
    private bool _watchingAll;
    private InMemoryMailbox? _watched;
    private uint _watchedHighest;
    private bool _cut;
    private bool _closed;

    public InMemoryMailSession(InMemoryMailServer server)
    {
        _server = server;
        server.Join(this);
    }

    public string Role => _server.Role;
    public SessionFeatures Features => _server.Features;
    public char? Delimiter => _server.Delimiter;
    public string PersonalPrefix => _server.PersonalPrefix;
    public bool IsConnected => !_cut && !_closed;
    public string? SelectedFolder => _selected?.Name;
    public ChannelReader<MailEvent> Events => _events.Reader;

    public Task<IReadOnlyList<MailboxWithStatus>> ListAsync(bool withStatus, CancellationToken cancellationToken) => Run(() =>
        (IReadOnlyList<MailboxWithStatus>)_server.All.OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => new MailboxWithStatus(
            new MailboxListEntry(m.Name, _server.Delimiter, m.Subscribed ? new HashSet<string> { "\\Subscribed" } : new HashSet<string>()),
            withStatus && Features.ListStatus ? m.Status(Features.CondStore) : null)).ToList());

    public Task<MailboxStatus> StatusAsync(string folder, CancellationToken cancellationToken) =>
        Run(() => _server.Find(folder).Status(Features.CondStore));

    public Task<SelectedMailbox> SelectAsync(string folder, bool readOnly, QResyncParameters? qresync, CancellationToken cancellationToken) => Run(() =>
    {
        _selected = null;
        var mailbox = _server.Find(folder);
        _selected = mailbox;
        _readOnly = readOnly;
        var resync = qresync is not null && Features.QResync && qresync.UidValidity == mailbox.UidValidity;
        return new SelectedMailbox
        {
            Name = folder,
            ReadOnly = readOnly,
            Exists = (uint)mailbox.Messages.Count,
            UidValidity = mailbox.UidValidity,
            UidNext = mailbox.UidNext,
            HighestModSeq = Features.CondStore ? mailbox.HighestModSeq : null,
            NoModSeq = !Features.CondStore,
            PermanentFlags = new MessageFlags([MessageFlags.Answered, MessageFlags.Flagged, MessageFlags.Deleted, MessageFlags.Seen, MessageFlags.Draft]),
            AllowsNewKeywords = true,
            Vanished = resync ? UidSet.FromUids(mailbox.Expunged.Where(e => e.ModSeq > qresync!.ModSeq).Select(e => e.Uid)) : UidSet.Empty,
            Changed = resync ? mailbox.Messages.Where(m => m.ModSeq > qresync!.ModSeq).Select(Flags).ToList() : [],
        };
    });

    public Task UnselectAsync(CancellationToken cancellationToken) => Run(() =>
    {
        _selected = null;
        _watched = null;
        return true;
    });

    public Task<FetchResult> FetchFlagsAsync(UidSet uids, ulong? changedSince, CancellationToken cancellationToken) => Run(() =>
    {
        var mailbox = Selected();
        if (changedSince is not null && !Features.CondStore) throw InMemoryMailServer.Refused("FETCH", ResponseCodeKind.Other, "CHANGEDSINCE needs CONDSTORE");
        var messages = mailbox.In(uids).Where(m => changedSince is null || m.ModSeq > changedSince).Select(Flags).ToList();
        var vanished = changedSince is { } since && Features.QResync
            ? UidSet.FromUids(mailbox.Expunged.Where(e => e.ModSeq > since && uids.Contains(e.Uid)).Select(e => e.Uid))
            : UidSet.Empty;
        return new FetchResult(messages, vanished);
    });

    public Task<FetchResult> FetchAttributesAsync(UidSet uids, CancellationToken cancellationToken) => Run(() =>
        new FetchResult(Selected().In(uids).Select(m => new MessageData
        {
            Uid = m.Uid, Flags = m.Flags, InternalDate = m.InternalDate, Size = m.Bytes.Length,
        }).ToList(), UidSet.Empty));

    public Task<FetchResult> FetchSummariesAsync(UidSet uids, CancellationToken cancellationToken) => Run(() =>
        new FetchResult(Selected().In(uids).Select(m => new MessageData
        {
            Uid = m.Uid, Flags = m.Flags, InternalDate = m.InternalDate, Size = m.Bytes.Length, HeaderFields = m.Header,
        }).ToList(), UidSet.Empty));

    public async IAsyncEnumerable<MessageData> FetchMessagesAsync(UidSet uids, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var messages = await Run(() => Selected().In(uids).Select(m => new MessageData
        {
            Uid = m.Uid, Flags = m.Flags, InternalDate = m.InternalDate, Size = m.Bytes.Length, Body = ImapLiteral.FromBytes(m.Bytes.ToArray()),
        }).ToList()).ConfigureAwait(false);
        _server.BodyFetches.Enqueue(messages.Sum(m => m.Body!.Length));
        foreach (var message in messages) yield return message;
    }

    public async IAsyncEnumerable<MessageData> FetchBodiesAsync(UidSet uids, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var message in FetchMessagesAsync(uids, cancellationToken).ConfigureAwait(false))
        {
            (message.Flags, message.InternalDate, message.Size) = (null, null, null);
            yield return message;
        }
    }

    public Task<UidSet> SearchAsync(SearchQuery query, CancellationToken cancellationToken) => Run(() =>
        UidSet.FromUids(Selected().Messages.Where(m => query.Terms.All(t => Matches(m, t.Keyword, t.Value))).Select(m => m.Uid)));

    public Task<AppendResult> AppendAsync(string folder, IReadOnlyList<AppendMessage> messages, CancellationToken cancellationToken) => Run(() =>
    {
        if (messages.Count > 1 && !Features.MultiAppend) throw InMemoryMailServer.Refused("APPEND", ResponseCodeKind.Other, "MULTIAPPEND is not offered");
        _server.AppendCommands.Enqueue((messages.Count, messages.Sum(m => m.Content.Length)));
        var uids = messages.Select(m =>
        {
            using var body = m.Content.OpenRead();
            using var copy = new MemoryStream();
            body.CopyTo(copy);
            return _server.Append(folder, copy.ToArray(), m.Flags, m.InternalDate, this);
        }).ToList();
        return Features.UidPlus ? new AppendResult(_server.Find(folder).UidValidity, UidSet.FromUids(uids)) : new AppendResult(null, null);
    });

    public Task SetFlagsAsync(UidSet uids, MessageFlags flags, CancellationToken cancellationToken) => Run(() =>
    {
        Writable("STORE");
        _server.SetFlags(Selected().Name, uids, flags, this);
        return true;
    });

    public Task ExpungeAsync(UidSet uids, CancellationToken cancellationToken) => Run(() =>
    {
        Writable("EXPUNGE");
        _server.Expunge(Selected().Name, uids, this);
        return true;
    });

    public Task<CopyResult?> CopyAsync(UidSet uids, string destination, CancellationToken cancellationToken) =>
        Run(() => WithUidPlus(_server.Copy(Selected().Name, uids, destination, move: false, this)));

    public Task<CopyResult?> MoveAsync(UidSet uids, string destination, CancellationToken cancellationToken) => Run(() =>
    {
        if (!Features.Move) throw InMemoryMailServer.Refused("MOVE", ResponseCodeKind.Other, "MOVE is not offered");
        Writable("MOVE");
        return WithUidPlus(_server.Copy(Selected().Name, uids, destination, move: true, this));
    });

    public async Task CreateAsync(string folder, CancellationToken cancellationToken)
    {
        if (_server.BeforeCreate is { } wait) await wait(folder);
        await Run(() =>
        {
            _server.Create(folder, this);
            return true;
        });
    }

    public Task DeleteAsync(string folder, CancellationToken cancellationToken) => Run(() =>
    {
        if (_selected?.Name == folder) _selected = null;
        _server.Delete(folder, this);
        return true;
    });

    public Task RenameAsync(string folder, string newName, CancellationToken cancellationToken) => Run(() =>
    {
        _server.Rename(folder, newName, this);
        return true;
    });

    public Task SetSubscribedAsync(string folder, bool subscribed, CancellationToken cancellationToken) => Run(() =>
    {
        _server.Subscribe(folder, subscribed, this);
        return true;
    });

    public Task NoopAsync(CancellationToken cancellationToken) => Run(() => true);

    public Task WatchFolderAsync(string folder, CancellationToken cancellationToken) => Run(() =>
    {
        var mailbox = _server.Find(folder);
        _selected = _watched = mailbox;
        _readOnly = true;
        _watchedHighest = mailbox.Messages.Count == 0 ? 0 : mailbox.Messages.Max(m => m.Uid);
        return true;
    });

    public Task<IReadOnlyDictionary<uint, MessageFlags>> FetchArrivalsAsync(CancellationToken cancellationToken) => Run(() =>
    {
        var mailbox = _watched ?? throw new InvalidOperationException("no folder is watched on this session");
        var arrived = mailbox.Messages.Where(m => m.Uid > _watchedHighest).ToDictionary(m => m.Uid, m => m.Flags);
        if (arrived.Count > 0) _watchedHighest = arrived.Keys.Max();
        return (IReadOnlyDictionary<uint, MessageFlags>)arrived;
    });

    public async Task IdleAsync(CancellationToken done, CancellationToken cancellationToken)
    {
        await Run(() => Features.Idle ? true : throw InMemoryMailServer.Refused("IDLE", ResponseCodeKind.Other, "IDLE is not offered")).ConfigureAwait(false);
        await WaitAsync(done, cancellationToken).ConfigureAwait(false);
    }

    public Task WatchAllAsync(CancellationToken cancellationToken) => Run(() =>
    {
        if (!Features.Notify) throw InMemoryMailServer.Refused("NOTIFY", ResponseCodeKind.Other, "NOTIFY is not offered");
        _watchingAll = true;
        return true;
    });

    public Task ListenAsync(TimeSpan keepAlive, CancellationToken cancellationToken) => WaitAsync(CancellationToken.None, cancellationToken);

    public Task LogoutAsync(CancellationToken cancellationToken)
    {
        Close();
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }

    internal void Cut()
    {
        _cut = true;
        _events.Writer.TryComplete(new ImapConnectionException($"the connection to the {Role} was cut"));
    }

    internal void OnArrived(InMemoryMailbox mailbox)
    {
        if (mailbox == _watched) Post(new MessagesArrived());
        else if (_watchingAll) Post(new FolderStatusChanged(mailbox.Name, Features.CondStore ? mailbox.HighestModSeq : null, mailbox.UidNext));
    }

    internal void OnExpunged(InMemoryMailbox mailbox, IReadOnlyList<uint> uids)
    {
        if (mailbox == _watched) Post(new MessagesExpunged(uids.ToHashSet()));
        else if (_watchingAll) Post(new FolderStatusChanged(mailbox.Name, Features.CondStore ? mailbox.HighestModSeq : null, mailbox.UidNext));
    }

    internal void OnFlagsChanged(InMemoryMailbox mailbox, InMemoryMessage message)
    {
        if (mailbox == _watched) Post(new MessageFlagsChanged(message.Uid, message.Flags, Features.CondStore ? message.ModSeq : null));
        else if (_watchingAll) Post(new FolderStatusChanged(mailbox.Name, Features.CondStore ? mailbox.HighestModSeq : null, mailbox.UidNext));
    }

    internal void OnFolderListChanged(FolderListChanged change)
    {
        if (_watchingAll) Post(change);
    }

    private void Post(MailEvent e) => _events.Writer.TryWrite(e);

    private void Close()
    {
        if (_closed) return;
        _closed = true;
        _server.Leave(this);
        _events.Writer.TryComplete();
    }

    private async Task WaitAsync(CancellationToken done, CancellationToken cancellationToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(done, cancellationToken);
        try
        {
            await Task.Delay(Timeout.Infinite, either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // DONE: the idle ended as asked.
        }
        catch (OperationCanceledException)
        {
            // The watcher is stopping.
        }
        if (_cut) throw new ImapConnectionException($"the connection to the {Role} was cut");
    }

    /// <summary>Runs a command under the server's lock; a cut connection answers nothing.</summary>
    private Task<T> Run<T>(Func<T> command)
    {
        lock (_server.Sync)
        {
            if (_cut || _closed) return Task.FromException<T>(new ImapConnectionException($"the connection to the {Role} is closed"));
            try
            {
                return Task.FromResult(command());
            }
            catch (ImapException ex)
            {
                return Task.FromException<T>(ex);
            }
        }
    }

    private InMemoryMailbox Selected()
    {
        if (_selected is null) throw InMemoryMailServer.Refused("FETCH", ResponseCodeKind.Other, "No mailbox selected");
        if (!_server.Exists(_selected.Name)) throw InMemoryMailServer.Refused("FETCH", ResponseCodeKind.NonExistent, "Mailbox was deleted");
        return _selected;
    }

    private void Writable(string command)
    {
        if (_readOnly) throw InMemoryMailServer.Refused(command, ResponseCodeKind.ReadOnly, "Mailbox is read-only");
    }

    private CopyResult? WithUidPlus(CopyResult? result) => Features.UidPlus ? result : null;

    private static MessageData Flags(InMemoryMessage m) => new() { Uid = m.Uid, Flags = m.Flags, ModSeq = m.ModSeq };

    private static bool Matches(InMemoryMessage message, string keyword, string? value) => keyword switch
    {
        "ALL" => true,
        "DELETED" => message.Flags.Contains(MessageFlags.Deleted),
        _ when keyword.StartsWith("UID ", StringComparison.Ordinal) => UidSet.Parse(keyword[4..]).Contains(message.Uid),
        _ when keyword.StartsWith("MODSEQ ", StringComparison.Ordinal) => message.ModSeq >= ulong.Parse(keyword[7..], System.Globalization.CultureInfo.InvariantCulture),
        _ when keyword.Equals("HEADER Message-ID", StringComparison.OrdinalIgnoreCase) =>
            MessageIdHeader.Parse(message.Header)?.Contains(value ?? "", StringComparison.OrdinalIgnoreCase) == true,
        _ => throw new NotSupportedException($"the in-memory server does not search by {keyword}"),
    };
}
