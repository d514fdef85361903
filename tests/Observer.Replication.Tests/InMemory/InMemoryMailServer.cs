using System.Collections.Concurrent;
using Observer.Mail;

namespace Observer.Replication.Tests.InMemory;

/// <summary>
/// An IMAP server's store in memory, for the fast tier of engine tests: folders, UIDs, flags, mod-sequences,
/// VANISHED, APPENDUID/COPYUID, subscriptions and the news NOTIFY and IDLE would carry. What it offers is
/// set by <see cref="Features"/>. Tests act on it as a mail user would, through the same methods the
/// sessions use; real servers stay the judges of protocol behaviour in the other tiers.
/// </summary>
public sealed class InMemoryMailServer
{
    private readonly Dictionary<string, InMemoryMailbox> _mailboxes = new(StringComparer.Ordinal);
    private readonly List<InMemoryMailSession> _sessions = [];
    private uint _nextValidity;

    public InMemoryMailServer(string role, SessionFeatures features, char delimiter = '.', string personalPrefix = "", uint firstValidity = 1000)
    {
        Role = role;
        Features = features;
        Delimiter = delimiter;
        PersonalPrefix = personalPrefix;
        _nextValidity = firstValidity;
        _mailboxes["INBOX"] = new InMemoryMailbox("INBOX", _nextValidity++) { Subscribed = true };
    }

    /// <summary>Everything full: CONDSTORE, QRESYNC, UIDPLUS, MOVE, MULTIAPPEND, NOTIFY, IDLE, LIST-STATUS.</summary>
    public static SessionFeatures Full { get; } = new()
    {
        CondStore = true, QResync = true, UidPlus = true, Move = true, MultiAppend = true, Notify = true, Idle = true, ListStatus = true,
    };

    /// <summary>IMAP4rev1 with IDLE and nothing else.</summary>
    public static SessionFeatures Plain { get; } = new() { Idle = true };

    public string Role { get; }
    public SessionFeatures Features { get; }
    public char Delimiter { get; }
    public string PersonalPrefix { get; }

    /// <summary>Lock for every read and write of the store.</summary>
    internal object Sync { get; } = new();

    /// <summary>Messages stored by APPEND, through any session: what a copy cost.</summary>
    public int Appended { get; private set; }

    /// <summary>Each APPEND command a session sent: its messages and their bytes.</summary>
    public ConcurrentQueue<(int Messages, long Bytes)> AppendCommands { get; } = new();

    /// <summary>Folders whose APPENDs a session makes are refused, as over quota.</summary>
    public HashSet<string> OverQuota { get; } = new(StringComparer.Ordinal);

    /// <summary>Awaited before a session's CREATE is carried out, outside the lock: a test's way to make one slow.</summary>
    public Func<string, Task>? BeforeCreate { get; set; }

    /// <summary>Each FETCH of bodies a session sent: the bytes it brought.</summary>
    public ConcurrentQueue<long> BodyFetches { get; } = new();

    public IReadOnlyCollection<string> Folders
    {
        get { lock (Sync) return _mailboxes.Keys.ToList(); }
    }

    public InMemoryMailbox Mailbox(string name)
    {
        lock (Sync) return Find(name);
    }

    internal InMemoryMailbox Find(string name) =>
        _mailboxes.TryGetValue(name, out var mailbox) ? mailbox : throw Refused("SELECT", ResponseCodeKind.NonExistent, $"Mailbox doesn't exist: {name}");

    internal bool Exists(string name) => _mailboxes.ContainsKey(name);

    internal IEnumerable<InMemoryMailbox> All => _mailboxes.Values;

    public void Create(string name, InMemoryMailSession? origin = null)
    {
        lock (Sync)
        {
            if (_mailboxes.ContainsKey(name)) throw Refused("CREATE", ResponseCodeKind.AlreadyExists, "Mailbox already exists");
            _mailboxes[name] = new InMemoryMailbox(name, _nextValidity++);
            Tell(origin, new FolderListChanged(null, name, true));
        }
    }

    public void Delete(string name, InMemoryMailSession? origin = null)
    {
        lock (Sync)
        {
            if (name == "INBOX" || !_mailboxes.Remove(name)) throw Refused("DELETE", ResponseCodeKind.NonExistent, $"Mailbox doesn't exist: {name}");
            Tell(origin, new FolderListChanged(null, name, false));
        }
    }

    /// <summary>Renames the folder and every folder below it, keeping their UIDVALIDITY, as Dovecot does.</summary>
    public void Rename(string oldName, string newName, InMemoryMailSession? origin = null)
    {
        lock (Sync)
        {
            if (!_mailboxes.ContainsKey(oldName)) throw Refused("RENAME", ResponseCodeKind.NonExistent, $"Mailbox doesn't exist: {oldName}");
            if (_mailboxes.ContainsKey(newName)) throw Refused("RENAME", ResponseCodeKind.AlreadyExists, "Target mailbox already exists");
            var below = oldName + Delimiter;
            foreach (var name in _mailboxes.Keys.Where(n => n == oldName || n.StartsWith(below, StringComparison.Ordinal)).ToList())
            {
                var mailbox = _mailboxes[name];
                _mailboxes.Remove(name);
                mailbox.Name = newName + name[oldName.Length..];
                _mailboxes[mailbox.Name] = mailbox;
                Tell(origin, new FolderListChanged(name, mailbox.Name, true));
            }
        }
    }

    public void Subscribe(string name, bool subscribed, InMemoryMailSession? origin = null)
    {
        lock (Sync)
        {
            Find(name).Subscribed = subscribed;
            Tell(origin, new FolderListChanged(null, name, true));
        }
    }

    public uint Append(string folder, byte[] bytes, MessageFlags? flags = null, DateTimeOffset? internalDate = null, InMemoryMailSession? origin = null)
    {
        lock (Sync)
        {
            if (!_mailboxes.TryGetValue(folder, out var mailbox)) throw Refused("APPEND", ResponseCodeKind.TryCreate, $"Mailbox doesn't exist: {folder}");
            if (origin is not null && OverQuota.Contains(folder)) throw Refused("APPEND", ResponseCodeKind.OverQuota, "Quota exceeded");
            var message = mailbox.Add(bytes, flags ?? MessageFlags.None, internalDate ?? DateTimeOffset.UtcNow);
            if (origin is not null) Appended++;
            TellChanged(origin, s => s.OnArrived(mailbox));
            return message.Uid;
        }
    }

    /// <summary>Sets exactly these flags on the messages.</summary>
    public void SetFlags(string folder, UidSet uids, MessageFlags flags, InMemoryMailSession? origin = null)
    {
        lock (Sync)
        {
            var mailbox = Find(folder);
            foreach (var message in mailbox.In(uids).ToList())
            {
                if (!mailbox.SetFlags(message, flags.WithoutRecent())) continue;
                TellChanged(origin, s => s.OnFlagsChanged(mailbox, message));
            }
        }
    }

    public void Expunge(string folder, UidSet uids, InMemoryMailSession? origin = null)
    {
        lock (Sync)
        {
            var mailbox = Find(folder);
            var gone = mailbox.Expunge(m => uids.Contains(m.Uid));
            if (gone.Count > 0) TellChanged(origin, s => s.OnExpunged(mailbox, gone));
        }
    }

    /// <summary>COPY, or MOVE when <paramref name="move"/>: the new UIDs in the same order as the source's.</summary>
    public CopyResult? Copy(string folder, UidSet uids, string destination, bool move, InMemoryMailSession? origin = null)
    {
        lock (Sync)
        {
            var source = Find(folder);
            if (!_mailboxes.TryGetValue(destination, out var target)) throw Refused(move ? "MOVE" : "COPY", ResponseCodeKind.TryCreate, $"Mailbox doesn't exist: {destination}");
            var messages = source.In(uids).OrderBy(m => m.Uid).ToList();
            if (messages.Count == 0) return null;
            var copies = messages.Select(m => target.Add(m.Bytes, m.Flags, m.InternalDate).Uid).ToList();
            TellChanged(origin, s => s.OnArrived(target));
            if (move)
            {
                var moved = messages.Select(m => m.Uid).ToHashSet();
                source.Expunge(m => moved.Contains(m.Uid));
                TellChanged(origin, s => s.OnExpunged(source, moved.ToList()));
            }
            return new CopyResult(target.UidValidity, UidSet.FromUids(messages.Select(m => m.Uid)), UidSet.FromUids(copies));
        }
    }

    /// <summary>Every session's connection is cut, as a network failure would.</summary>
    public void CutEveryConnection()
    {
        lock (Sync)
        {
            foreach (var session in _sessions.ToList()) session.Cut();
            _sessions.Clear();
        }
    }

    internal void Join(InMemoryMailSession session)
    {
        lock (Sync) _sessions.Add(session);
    }

    internal void Leave(InMemoryMailSession session)
    {
        lock (Sync) _sessions.Remove(session);
    }

    internal uint NewValidity() => _nextValidity++;

    private void Tell(InMemoryMailSession? origin, FolderListChanged change)
    {
        foreach (var session in _sessions.Where(s => s != origin)) session.OnFolderListChanged(change);
    }

    private void TellChanged(InMemoryMailSession? origin, Action<InMemoryMailSession> tell)
    {
        foreach (var session in _sessions.Where(s => s != origin)) tell(session);
    }

    internal static ImapCommandException Refused(string command, ResponseCodeKind code, string text) =>
        new(command, ResponseCondition.No, new ResponseCode(code, code.ToString().ToUpperInvariant()), text);
}
