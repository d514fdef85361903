using Observer.Imap;

namespace Observer.TestSupport;

/// <summary>
/// A busy user on the primary, seeded: new mail, flag and keyword changes, expunges, moves, and
/// folders created, renamed and deleted (only folders it created itself).
/// </summary>
public sealed class MailboxMutator(ImapClient client, int seed, IEnumerable<string> folders)
{
    private readonly Random _random = new(seed);
    private readonly List<string> _folders = [.. folders];
    private readonly List<string> _own = [];
    private int _created;

    private static readonly string[] Keywords = ["$Work", "$Later", "$Label1", "Done", "\\Seen", "\\Flagged", "\\Answered"];

    public Dictionary<string, int> Counts { get; } = [];

    public int Total => Counts.Values.Sum();

    public async Task<string> MutateOnceAsync()
    {
        var roll = _random.Next(100);
        var action = roll switch
        {
            < 30 => "append",
            < 60 => "flags",
            < 72 => "expunge",
            < 87 => "move",
            < 93 => "create",
            < 97 => "rename",
            _ => "delete",
        };
        var done = action switch
        {
            "append" => await AppendAsync(),
            "flags" => await FlagsAsync(),
            "expunge" => await ExpungeAsync(),
            "move" => await MoveAsync(),
            "create" => await CreateAsync(),
            "rename" => await RenameAsync(),
            _ => await DeleteAsync(),
        };
        if (done is not null) Counts[action] = Counts.GetValueOrDefault(action) + 1;
        return done ?? "nothing";
    }

    private string Pick() => _folders[_random.Next(_folders.Count)];

    private async Task<string?> AppendAsync()
    {
        var folder = Pick();
        var flags = _random.Next(3) == 0 ? new MessageFlags([Keywords[_random.Next(Keywords.Length)]]) : null;
        await client.AppendAsync(folder, MailFactory.Message("mutation " + _random.Next(), flags));
        return $"append to {folder}";
    }

    private async Task<(string Folder, uint Uid)?> PickMessageAsync()
    {
        var folder = Pick();
        var selected = await client.SelectAsync(folder);
        if (selected.Exists == 0) return null;
        var uids = (await client.UidSearchAsync(SearchQuery.All)).Expand().ToList();
        return (folder, uids[_random.Next(uids.Count)]);
    }

    private async Task<string?> FlagsAsync()
    {
        if (await PickMessageAsync() is not var (folder, uid)) return null;
        var flag = new MessageFlags([Keywords[_random.Next(Keywords.Length)]]);
        await client.UidStoreAsync(UidSet.Single(uid), _random.Next(2) == 0 ? StoreMode.Add : StoreMode.Remove, flag, silent: true);
        return $"flags of {folder} uid {uid}";
    }

    private async Task<string?> ExpungeAsync()
    {
        if (await PickMessageAsync() is not var (folder, uid)) return null;
        await client.UidStoreAsync(UidSet.Single(uid), StoreMode.Add, new MessageFlags([MessageFlags.Deleted]), silent: true);
        await client.UidExpungeAsync(UidSet.Single(uid));
        return $"expunge {folder} uid {uid}";
    }

    private async Task<string?> MoveAsync()
    {
        if (await PickMessageAsync() is not var (folder, uid)) return null;
        var target = Pick();
        if (target == folder) return null;
        await client.UidMoveAsync(UidSet.Single(uid), target);
        return $"move {folder} uid {uid} to {target}";
    }

    private async Task<string?> CreateAsync()
    {
        var name = $"Mutant.F{++_created}x{_random.Next(1000)}";
        await client.CreateAsync(name);
        _folders.Add(name);
        _own.Add(name);
        return $"create {name}";
    }

    private async Task<string?> RenameAsync()
    {
        if (_own.Count == 0) return null;
        var old = _own[_random.Next(_own.Count)];
        var name = old + "r";
        if (client.Selected is not null) await client.UnselectAsync();
        await client.RenameAsync(old, name);
        _own[_own.IndexOf(old)] = name;
        _folders[_folders.IndexOf(old)] = name;
        return $"rename {old} to {name}";
    }

    private async Task<string?> DeleteAsync()
    {
        if (_own.Count == 0) return null;
        var victim = _own[_random.Next(_own.Count)];
        if (client.Selected is not null) await client.UnselectAsync();
        await client.DeleteAsync(victim);
        _own.Remove(victim);
        _folders.Remove(victim);
        return $"delete {victim}";
    }
}
