using Observer.Mail;

namespace Observer.TestSupport;

/// <summary>
/// A busy user on the primary, seeded: new mail, flag and keyword changes, expunges, moves, and
/// folders created, renamed and deleted (only folders the generator created itself). Several
/// mutators may share one <see cref="SharedFolders"/>, each on a client of its own, as several
/// mail clients of one user do.
/// </summary>
public sealed class MailboxMutator
{
    private static readonly string[] ClassicFlags = ["$Work", "$Later", "$Label1", "Done", "\\Seen", "\\Flagged", "\\Answered"];
    private static readonly string[] VariedFlags = ["\\Seen", "\\Flagged", "\\Answered", "\\Draft", "$Work", "$Later", "$Label1", "Done", "NonJunk", "$MDNSent"];

    private readonly Random _random;
    private readonly SharedFolders _folders;
    private readonly FolderNaming _naming;
    private readonly MutationProfile _profile;
    private readonly InFlightProbes? _probes;
    private readonly FolderMutations _folderMutations;
    private int _appended;

    /// <summary>The classic single-client user on a Dovecot primary with '.' as delimiter; <paramref name="folders"/> are server names.</summary>
    public MailboxMutator(UserImapClient client, int seed, IEnumerable<string> folders)
        : this(client, new Random(seed), new SharedFolders(folders.Select(FolderNaming.Dovecot.Path)), FolderNaming.Dovecot, MutationProfile.Classic)
    {
    }

    /// <param name="name">Who this is in descriptions and in the names of the folders it creates.</param>
    /// <param name="probes">Liveness probes in INBOX that must not be moved or expunged yet.</param>
    public MailboxMutator(UserImapClient client, Random random, SharedFolders folders, FolderNaming naming, MutationProfile profile,
        string name = "", InFlightProbes? probes = null)
    {
        Client = client;
        _random = random;
        _folders = folders;
        _naming = naming;
        _profile = profile;
        _probes = probes;
        Name = name;
        _folderMutations = new FolderMutations(this, random, folders, naming, profile.VariedFolders);
    }

    /// <summary>The connection it works on; replace it after the server closed it.</summary>
    public UserImapClient Client { get; set; }

    public string Name { get; }

    /// <summary>The action of the latest <see cref="MutateOnceAsync"/>, to name a refused one.</summary>
    public string LastAction { get; private set; } = "";

    /// <summary>Mutations done, by action.</summary>
    public Dictionary<string, int> Counts { get; } = [];

    public int Total => Counts.Values.Sum();

    /// <summary>The commands the server refused in <see cref="MutateOrCarryOnAsync"/>, each with the action and the server's words.</summary>
    public List<string> Refusals { get; } = [];

    /// <summary>
    /// Makes one random change and describes it ("nothing" when the pick found nothing to do). A
    /// command the server refuses throws <see cref="ImapCommandException"/>.
    /// </summary>
    public async Task<string> MutateOnceAsync()
    {
        var action = LastAction = _profile.Choose(_random);
        var done = action switch
        {
            "append" => await AppendAsync(),
            "flags" => await FlagsAsync(),
            "expunge" => await ExpungeAsync(),
            "move" => await MoveAsync(),
            "create" => await _folderMutations.CreateAsync(),
            "rename" => await _folderMutations.RenameAsync(),
            "delete" => await _folderMutations.DeleteAsync(),
            "evacuate" => await _folderMutations.EvacuateAsync(),
            _ => throw new InvalidOperationException($"unknown action '{action}'"),
        };
        if (done is not null) Counts[action] = Counts.GetValueOrDefault(action) + 1;
        return done ?? "nothing";
    }

    /// <summary>
    /// <see cref="MutateOnceAsync"/> for a user who reads a refusal and carries on, as people do: it is
    /// kept in <see cref="Refusals"/>. Dovecot 2.3 has been seen to answer a LIST for a folder this
    /// client had just created with nothing while other sessions were busy (a CI run); the tests
    /// that use this are about what the replica ends up holding, not about the server's moods.
    /// </summary>
    public async Task<string> MutateOrCarryOnAsync()
    {
        try
        {
            return await MutateOnceAsync();
        }
        catch (ImapCommandException ex)
        {
            Refusals.Add($"{LastAction}: {ex.Message}");
            return "refused";
        }
    }

    private async Task<string?> AppendAsync()
    {
        var folder = _folders.Pick(_random);
        if (!_profile.VariedMessages)
        {
            var flags = _random.Next(3) == 0 ? new MessageFlags([ClassicFlags[_random.Next(ClassicFlags.Length)]]) : null;
            await Client.AppendAsync(_naming.ServerName(folder), MailFactory.Message("mutation " + _random.Next(), flags));
            return $"append to {folder}";
        }
        var initial = _random.Next(3) == 0 ? RandomFlags() : null;
        var token = $"m{Name}{++_appended}x{_random.Next(100_000)}";
        var (message, shape) = MessageShapes.Next(_random, token, initial);
        var result = await Client.AppendAsync(_naming.ServerName(folder), message);
        return $"append {token} ({shape}{(initial is null ? "" : $", {initial}")}) to {folder}{(result.Uids is { } u ? $" as uid {u}" : "")}";
    }

    private async Task<string?> FlagsAsync()
    {
        var all = _profile.VariedMessages && _random.Next(7) == 0;
        if (await PickAsync(all ? int.MaxValue : 1) is not var (folder, uids)) return null;
        var flags = _profile.VariedMessages ? RandomFlags() : new MessageFlags([ClassicFlags[_random.Next(ClassicFlags.Length)]]);
        var mode = _random.Next(_profile.VariedMessages ? 5 : 2) switch { 0 => StoreMode.Add, 1 => StoreMode.Remove, 2 or 3 => StoreMode.Add, _ => StoreMode.Replace };
        await Client.UidStoreAsync(uids, mode, flags, silent: true);
        return $"flags {mode} ({flags}) on {folder} uid {uids}";
    }

    private async Task<string?> ExpungeAsync()
    {
        if (await PickAsync(_profile.VariedMessages ? _random.Next(1, 4) : 1) is not var (folder, uids)) return null;
        await MessageMover.ExpungeAsync(Client, uids);
        return $"expunge {folder} uid {uids}";
    }

    private async Task<string?> MoveAsync()
    {
        if (await PickAsync(_profile.VariedMessages ? _random.Next(1, 4) : 1) is not var (folder, uids)) return null;
        var target = _folders.Pick(_random);
        if (target == folder) return null;
        var how = await MessageMover.MoveAsync(Client, uids, _naming.ServerName(target));
        return $"move {folder} uid {uids} to {target} ({how})";
    }

    private MessageFlags RandomFlags()
    {
        var count = _random.Next(1, 3);
        return new MessageFlags(Enumerable.Range(0, count).Select(_ => VariedFlags[_random.Next(VariedFlags.Length)]));
    }

    /// <summary>Selects a random folder and picks up to <paramref name="count"/> of its messages; null if it is empty.</summary>
    private async Task<(string Folder, UidSet Uids)?> PickAsync(int count) => await PickInAsync(_folders.Pick(_random), count);

    internal async Task<(string Folder, UidSet Uids)?> PickInAsync(string folder, int count)
    {
        var selected = await Client.SelectAsync(_naming.ServerName(folder));
        if (selected.Exists == 0) return null;
        var inbox = folder == "INBOX" && _probes is not null;
        if (inbox) await _probes!.Gate.WaitAsync();
        List<uint> uids;
        try
        {
            uids = (await Client.UidSearchAsync(SearchQuery.All)).Expand().Where(u => !inbox || !_probes!.Contains(u)).ToList();
        }
        finally
        {
            if (inbox) _probes!.Gate.Release();
        }
        if (uids.Count == 0) return null;
        if (count >= uids.Count) return (folder, UidSet.FromUids(uids));
        var chosen = Enumerable.Range(0, count).Select(_ => uids[_random.Next(uids.Count)]);
        return (folder, UidSet.FromUids(chosen));
    }
}
