using System.Threading.Channels;
using Observer.Mail;

namespace Observer.Replication.Tests;

/// <summary>
/// An <see cref="IMailSession"/> decorator that counts the writes a test cares about and can
/// simulate a crash right after the server accepted an APPEND, before observer could record it.
/// </summary>
internal sealed class RecordingSession(IMailSession inner, SessionLedger ledger, string purpose = "") : IMailSession
{
    public string Role => inner.Role;
    public SessionFeatures Features => inner.Features;
    public char? Delimiter => inner.Delimiter;
    public string PersonalPrefix => inner.PersonalPrefix;
    public bool IsConnected => inner.IsConnected;
    public string? SelectedFolder => inner.SelectedFolder;
    private readonly long _opened = Interlocked.Increment(ref ledger.ConnectionsOpened);

    public ChannelReader<MailEvent> Events => field ??= new FilteredEvents(inner.Events, Hears, () => _opened <= Volatile.Read(ref ledger.EventsEndUpTo), () => ledger.EventsEnding);

    private bool Hears(MailEvent e)
    {
        if (e is FolderListChanged list) return !ledger.Unheard.ContainsKey(list.Name);
        if (e is not FolderStatusChanged status) return true;
        var heard = !ledger.Unheard.ContainsKey(status.Folder) && (_opened > Volatile.Read(ref ledger.DeafUpTo) || status.Folder == "INBOX");
        if (heard) ledger.StatusHeard.AddOrUpdate(status.Folder, 1, (_, n) => n + 1);
        return heard;
    }

    /// <summary>A connection opened to check a list, or after the server's lists were made right again, lists right.</summary>
    private bool ListsRight => purpose == "lister" || _opened > Volatile.Read(ref ledger.ListsRightAfter);

    public async Task<AppendResult> AppendAsync(string folder, IReadOnlyList<AppendMessage> messages, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref ledger.EmptyAppends, messages.Count(m => m.Content.Length == 0));
        if (Interlocked.Exchange(ref ledger.CutUnderNextAppend, 0) == 1)
        {
            // The bytes are copied: the engine releases its own once the APPEND has failed.
            ledger.LateAppend = (folder, messages.Select(m => m with { Content = ImapLiteral.FromBytes(m.Content.ToArray()) }).ToList());
            throw new ImapConnectionException("simulated cut under an APPEND that the server carries out later");
        }
        AppendResult result;
        try
        {
            result = await inner.AppendAsync(folder, messages, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref ledger.AppendsAbandoned);
            throw;
        }
        Interlocked.Add(ref ledger.Appended, messages.Count);
        ledger.AppendedBy.AddOrUpdate(purpose, messages.Count, (_, n) => n + messages.Count);
        if (ledger.WithholdAppendUid) result = new AppendResult(null, null);
        if (Interlocked.Exchange(ref ledger.CrashAfterNextAppend, 0) == 1)
            throw new ImapConnectionException("simulated crash after APPEND, before its result was recorded");
        return result;
    }

    public async Task<CopyResult?> MoveAsync(UidSet uids, string destination, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref ledger.Moves);
        return await inner.MoveAsync(uids, destination, cancellationToken);
    }

    public async Task<CopyResult?> CopyAsync(UidSet uids, string destination, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref ledger.Copies);
        return await inner.CopyAsync(uids, destination, cancellationToken);
    }

    public async Task RenameAsync(string folder, string newName, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref ledger.Renames);
        await inner.RenameAsync(folder, newName, cancellationToken);
    }

    public async Task<IReadOnlyList<MailboxWithStatus>> ListAsync(bool withStatus, CancellationToken cancellationToken) =>
        (await inner.ListAsync(withStatus, cancellationToken).ContinueWith(t => { Interlocked.Increment(ref ledger.Lists); ledger.ListsBy.AddOrUpdate(purpose, 1, (_, n) => n + 1); return t; }).Unwrap())
            .Where(m => !ledger.HiddenFromList.Contains(m.Mailbox.Name) && (ListsRight || !ledger.HiddenFromLongLivedLists.Contains(m.Mailbox.Name)))
            .Concat((ListsRight ? [] : ledger.ListedButGone).Select(name => new MailboxWithStatus(new MailboxListEntry(name, Delimiter, new HashSet<string>()), null))).ToList();
    public Task<MailboxStatus> StatusAsync(string folder, CancellationToken cancellationToken) => inner.StatusAsync(folder, cancellationToken);
    public Task<SelectedMailbox> SelectAsync(string folder, bool readOnly, QResyncParameters? qresync, CancellationToken cancellationToken)
    {
        ledger.Selects.AddOrUpdate(folder, 1, (_, n) => n + 1);
        return inner.SelectAsync(folder, readOnly, qresync, cancellationToken);
    }
    public Task UnselectAsync(CancellationToken cancellationToken) => inner.UnselectAsync(cancellationToken);
    public Task<FetchResult> FetchFlagsAsync(UidSet uids, ulong? changedSince, CancellationToken cancellationToken) => inner.FetchFlagsAsync(uids, changedSince, cancellationToken);
    public async Task<FetchResult> FetchAttributesAsync(UidSet uids, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref ledger.AttributeFetches);
        var result = await inner.FetchAttributesAsync(uids, cancellationToken);
        if (Interlocked.Exchange(ref ledger.AfterNextAttributeFetch, null) is { } then) await then();
        return result;
    }

    public Task<FetchResult> FetchSummariesAsync(UidSet uids, CancellationToken cancellationToken) => inner.FetchSummariesAsync(uids, cancellationToken);
    public IAsyncEnumerable<MessageData> FetchMessagesAsync(UidSet uids, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref ledger.BodyFetches);
        return EmptiedAsync(inner.FetchMessagesAsync(uids, cancellationToken));
    }

    public IAsyncEnumerable<MessageData> FetchBodiesAsync(UidSet uids, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref ledger.BodyFetches);
        return EmptiedAsync(inner.FetchBodiesAsync(uids, cancellationToken));
    }

    public async IAsyncEnumerable<MessageDigest> FetchDigestsAsync(UidSet uids, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref ledger.BodyFetches);
        await foreach (var digest in inner.FetchDigestsAsync(uids, cancellationToken))
        {
            // The same faults as for bodies: a message not delivered at all, or delivered empty.
            if (ledger.UndeliveredBodies.Contains(digest.Uid)) continue;
            yield return ledger.EmptyBodies.Contains(digest.Uid) ? digest with { Length = 0, Md5 = System.Security.Cryptography.MD5.HashData(Array.Empty<byte>()) } : digest;
        }
        if (Interlocked.Exchange(ref ledger.AfterNextDigestFetch, null) is { } then) await then();
    }

    private async IAsyncEnumerable<MessageData> EmptiedAsync(IAsyncEnumerable<MessageData> fetched)
    {
        await foreach (var data in fetched)
        {
            if (data.Uid is { } lost && ledger.UndeliveredBodies.Contains(lost))
            {
                data.Dispose();
                continue;
            }
            if (data.Uid is { } uid && data.Body is not null && ledger.EmptyBodies.Contains(uid))
            {
                // As Dovecot answers for a message expunged by another session while this one fetches it.
                data.Body.Dispose();
                data.Body = ImapLiteral.FromBytes(Array.Empty<byte>());
                if (ledger.EmptyBodiesSayZeroSize) data.Size = 0;
            }
            yield return data;
        }
    }
    public async Task<UidSet> SearchAsync(SearchQuery query, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref ledger.Searches);
        var found = await inner.SearchAsync(query, cancellationToken);
        if (Interlocked.Exchange(ref ledger.AfterNextSearch, null) is { } then) await then();
        return found;
    }
    public Task SetFlagsAsync(UidSet uids, MessageFlags flags, CancellationToken cancellationToken) => inner.SetFlagsAsync(uids, flags, cancellationToken);
    public Task ExpungeAsync(UidSet uids, CancellationToken cancellationToken) => inner.ExpungeAsync(uids, cancellationToken);
    public Task CreateAsync(string folder, CancellationToken cancellationToken) => inner.CreateAsync(folder, cancellationToken);
    public Task DeleteAsync(string folder, CancellationToken cancellationToken) => inner.DeleteAsync(folder, cancellationToken);
    public Task SetSubscribedAsync(string folder, bool subscribed, CancellationToken cancellationToken) => inner.SetSubscribedAsync(folder, subscribed, cancellationToken);
    public Task NoopAsync(CancellationToken cancellationToken) => inner.NoopAsync(cancellationToken);
    public Task IdleAsync(CancellationToken done, CancellationToken cancellationToken) => inner.IdleAsync(done, cancellationToken);
    public async Task WatchAllAsync(CancellationToken cancellationToken)
    {
        await inner.WatchAllAsync(cancellationToken);
        Interlocked.Increment(ref ledger.WatchingAll);
    }
    public Task ListenAsync(TimeSpan keepAlive, CancellationToken cancellationToken) => inner.ListenAsync(keepAlive, cancellationToken);
    public Task WatchFolderAsync(string folder, CancellationToken cancellationToken) => inner.WatchFolderAsync(folder, cancellationToken);
    public Task<IReadOnlyDictionary<uint, MessageFlags>> FetchArrivalsAsync(CancellationToken cancellationToken) => inner.FetchArrivalsAsync(cancellationToken);
    public Task LogoutAsync(CancellationToken cancellationToken) => inner.LogoutAsync(cancellationToken);
    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>What the replica was asked to do, across all its sessions.</summary>
internal sealed class SessionLedger
{
    public int Appended;

    /// <summary>Messages appended, by the purpose of the connection they went over ("append lane" for a big copy's extra lanes).</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, int> AppendedBy { get; } = new();

    public int Moves;
    public int Copies;
    public int Renames;
    public int CrashAfterNextAppend;

    /// <summary>
    /// Cut the connection under the next APPEND before its answer, with the server still holding the whole command: the
    /// messages are not stored but kept in <see cref="LateAppend"/>, for the test to store when the server would.
    /// </summary>
    public int CutUnderNextAppend;

    /// <summary>APPENDs cancelled on their way: the server may still carry each out after its connection is dropped.</summary>
    public int AppendsAbandoned;

    /// <summary>The APPEND that <see cref="CutUnderNextAppend"/> cut: its folder and messages.</summary>
    public (string Folder, IReadOnlyList<AppendMessage> Messages)? LateAppend;

    /// <summary>What another client does right after the next SEARCH has been answered, once.</summary>
    public Func<Task>? AfterNextSearch;

    /// <summary>Fetches of flags, dates and sizes alone (<see cref="IMailSession.FetchAttributesAsync"/>).</summary>
    public int AttributeFetches;

    /// <summary>Fetches of whole messages, with or without their flags, dates and sizes.</summary>
    public int BodyFetches;

    /// <summary>What another client does right after the next attribute FETCH has been answered, once.</summary>
    public Func<Task>? AfterNextAttributeFetch;

    /// <summary>What another client does right after the next fetch of digests has been answered, once.</summary>
    public Func<Task>? AfterNextDigestFetch;

    /// <summary>SELECTs (and EXAMINEs) sent, by folder, on every connection.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, int> Selects { get; } = new();

    /// <summary>SEARCH commands sent, on every connection: how often a folder's UIDs were listed whole.</summary>
    public int Searches;

    /// <summary>LIST commands sent, on every connection: a loop that spins shows here.</summary>
    public int Lists;

    /// <summary>LIST commands sent, by the purpose of the connection ("poll" for the STATUS poller).</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, int> ListsBy { get; } = new();

    /// <summary>Messages APPENDed with no bytes at all.</summary>
    public int EmptyAppends;

    /// <summary>UIDs whose bodies FETCH returns empty (RFC822.SIZE still says otherwise), as for a message expunged mid-fetch.</summary>
    public HashSet<uint> EmptyBodies { get; } = [];

    /// <summary>UIDs whose bodies FETCH leaves out altogether, as when their answers were lost on the way unnoticed.</summary>
    public HashSet<uint> UndeliveredBodies { get; } = [];

    /// <summary>With <see cref="EmptyBodies"/>: RFC822.SIZE says 0 too.</summary>
    public bool EmptyBodiesSayZeroSize;

    /// <summary>Act like a server without UIDPLUS: APPEND says OK but not which UID it gave.</summary>
    public bool WithholdAppendUid;

    /// <summary>Folders LIST leaves out, as a glitching server might, though they still exist.</summary>
    public HashSet<string> HiddenFromList { get; } = [];

    /// <summary>
    /// Folders LIST shows, without status, though the server has none by those names (on every connection
    /// but a new one opened to check a list): as LIST-STATUS answers for a folder deleted by another session
    /// between its LIST and its STATUS, or as a stale Dovecot session lists a folder renamed away.
    /// </summary>
    public HashSet<string> ListedButGone { get; } = [];

    /// <summary>
    /// Folders LIST leaves out on every connection but a new one opened to check a list, as a long-lived
    /// Dovecot 2.3 session was seen to do with folders other clients had just created.
    /// </summary>
    public HashSet<string> HiddenFromLongLivedLists { get; } = [];

    /// <summary>Sessions that have set NOTIFY up, so far.</summary>
    public int WatchingAll;

    /// <summary>Connections opened so far, on every purpose.</summary>
    public long ConnectionsOpened;

    /// <summary>
    /// <see cref="ListedButGone"/> and <see cref="HiddenFromLongLivedLists"/> fool only the connections opened up to
    /// this one: as Dovecot 2.3 lists right on any connection opened after the change.
    /// </summary>
    public long ListsRightAfter = long.MaxValue;

    public void NewConnectionsListRight() => Volatile.Write(ref ListsRightAfter, Interlocked.Read(ref ConnectionsOpened));

    /// <summary>Folders whose STATUS and LIST events NOTIFY leaves out, on every connection.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, byte> Unheard { get; } = new(StringComparer.Ordinal);

    /// <summary>Connections up to this one hear the STATUS of INBOX alone, as a Dovecot 2.3 NOTIFY session was seen to.</summary>
    public long DeafUpTo;

    public void DeafenOpenSessions() => Volatile.Write(ref DeafUpTo, Interlocked.Read(ref ConnectionsOpened));

    /// <summary>Connections up to this one hear nothing more: their events end, as when the server drops the connection.</summary>
    public long EventsEndUpTo;

    /// <summary>Cancelled when events end, to wake those waiting for one.</summary>
    public CancellationToken EventsEnding => _eventsEnding.Token;

    private CancellationTokenSource _eventsEnding = new();

    /// <summary>Ends the events of every connection open now, as Dovecot 2.3 did when it killed a NOTIFY session on a corrupted list index.</summary>
    public void DropOpenSessionsEvents()
    {
        Volatile.Write(ref EventsEndUpTo, Interlocked.Read(ref ConnectionsOpened));
        Interlocked.Exchange(ref _eventsEnding, new CancellationTokenSource()).Cancel();
    }

    /// <summary>STATUS events the engine was given, by folder.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, int> StatusHeard { get; } = new(StringComparer.Ordinal);
}

/// <summary>A session's events, less those a test makes the server leave out, and none once it makes them end.</summary>
internal sealed class FilteredEvents(ChannelReader<MailEvent> inner, Func<MailEvent, bool> passes, Func<bool> ended, Func<CancellationToken> ending) : ChannelReader<MailEvent>
{
    public override bool TryRead(out MailEvent item)
    {
        while (!ended() && inner.TryRead(out item!))
            if (passes(item)) return true;
        item = null!;
        return false;
    }

    public override async ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        while (!ended())
        {
            // Every drop wakes every waiting session: one it does not end waits again, on the next drop's token.
            var drop = ending();
            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, drop);
            try
            {
                return await inner.WaitToReadAsync(either.Token) && !ended();
            }
            catch (OperationCanceledException) when (drop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
            }
        }
        return false;
    }
}

internal sealed class RecordingSessionFactory(IMailSessionFactory inner) : IMailSessionFactory
{
    public SessionLedger Replica { get; } = new();

    public SessionLedger Primary { get; } = new();

    public async Task<IMailSession> ConnectAsync(ServerRole role, string purpose, CancellationToken cancellationToken)
    {
        var session = await inner.ConnectAsync(role, purpose, cancellationToken);
        return new RecordingSession(session, role == ServerRole.Replica ? Replica : Primary, purpose);
    }
}
