namespace Observer.TestSupport;

/// <summary>
/// The folder half of a <see cref="MailboxMutator"/>: creates, renames, deletes, and folders emptied
/// by moves and then deleted. It only renames and deletes folders the generator created.
/// </summary>
internal sealed class FolderMutations(MailboxMutator owner, Random random, SharedFolders folders, FolderNaming naming, bool varied)
{
    // No '.', '/', '%', '*', '&', '"' or '\': delimiters and wildcards of one server or another.
    private static readonly string[] Stems = ["Projects", "Old Stuff", "Caf\u00e9", "Entw\u00fcrfe", "\u65c5\u884c", "Re\u00e7us", "Notes"];

    private int _created;

    private UserImapClient Client => owner.Client;

    public async Task<string?> CreateAsync()
    {
        string path;
        if (!varied)
        {
            path = $"Mutant/F{++_created}x{random.Next(1000)}";
        }
        else
        {
            var name = $"{Stems[random.Next(Stems.Length)]} {owner.Name}{++_created}";
            // Up to three levels; children of INBOX are left out, since servers disagree on where they live.
            var parent = random.Next(2) == 0 ? folders.PickOwn(random) : null;
            path = parent is not null && parent.Count(c => c == '/') < 2 ? parent + "/" + name : name;
        }
        await Client.CreateAsync(naming.ServerName(path));
        folders.Add(path);
        return $"create {path}";
    }

    public async Task<string?> RenameAsync()
    {
        if (folders.PickOwn(random) is not { } old) return null;
        string path;
        if (!varied)
        {
            path = old + "r";
        }
        else
        {
            var leaf = old[(old.LastIndexOf('/') + 1)..];
            // Now and then to the top level, moving it (and its children) across the hierarchy.
            var parent = old.Contains('/') && random.Next(3) > 0 ? old[..old.LastIndexOf('/')] + "/" : "";
            path = $"{parent}{leaf} r{random.Next(100)}";
            if (folders.Exists(path)) return null;
        }
        if (Client.Selected is not null) await Client.UnselectAsync();
        await Client.RenameAsync(naming.ServerName(old), naming.ServerName(path));
        folders.Rename(old, path);
        return $"rename {old} to {path}";
    }

    public async Task<string?> DeleteAsync()
    {
        if (folders.PickOwn(random, leafOnly: varied) is not { } victim) return null;
        if (Client.Selected is not null) await Client.UnselectAsync();
        await Client.DeleteAsync(naming.ServerName(victim));
        folders.Remove(victim);
        return $"delete {victim}";
    }

    /// <summary>Moves every message out of a folder, then deletes it: how users often retire a folder.</summary>
    public async Task<string?> EvacuateAsync()
    {
        if (folders.PickOwn(random, leafOnly: true) is not { } victim) return null;
        var target = folders.Pick(random);
        if (target == victim || target.StartsWith(victim + "/", StringComparison.Ordinal)) return null;
        var moved = "nothing";
        if (await owner.PickInAsync(victim, int.MaxValue) is var (_, uids))
            moved = $"uid {uids} ({await MessageMover.MoveAsync(Client, uids, naming.ServerName(target))})";
        if (Client.Selected is not null) await Client.UnselectAsync();
        await Client.DeleteAsync(naming.ServerName(victim));
        folders.Remove(victim);
        return $"evacuate {victim}: moved {moved} to {target}, then deleted it";
    }
}
