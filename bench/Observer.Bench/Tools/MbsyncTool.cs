using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>mbsync (isync): C, one-shot, one-way pull here. It has no watch mode; a busy loop stands in.</summary>
internal sealed class MbsyncTool : SyncTool
{
    private const string Config = """
        IMAPAccount primary
        Host 127.0.0.1
        Port {PRIMARY_PORT}
        User {PRIMARY_USER}
        Pass {PRIMARY_PASSWORD}
        SSLType None
        AuthMechs LOGIN
        Timeout 60

        IMAPAccount replica
        Host 127.0.0.1
        Port {REPLICA_PORT}
        User {REPLICA_USER}
        Pass {REPLICA_PASSWORD}
        SSLType None
        AuthMechs LOGIN
        Timeout 60

        IMAPStore primary
        Account primary

        IMAPStore replica
        Account replica

        Channel mirror
        Far :primary:
        Near :replica:
        Patterns *
        Create Near
        Remove Near
        Expunge Near
        Sync Pull
        CopyArrivalDate yes
        SyncState {STATE_DIR}/mbsync/

        """;

    public override string Id => "mbsync";

    public override string Name => "mbsync";

    protected override string Program => "mbsync";

    protected override string? Package => "isync";

    public override ProcessSpec OneShot(PairAccounts accounts, string work) =>
        new("mbsync", ["-q", "-c", WritePrivate(work, "mbsyncrc", Fill(Config, accounts, work)), "mirror"], work, new Dictionary<string, string> { ["HOME"] = work });

    public override ProcessSpec? Watch(PairAccounts accounts, string work)
    {
        var once = OneShot(accounts, work);
        var command = string.Join(' ', once.Arguments.Prepend(once.Program).Select(a => $"'{a}'"));
        return new ProcessSpec("bash", ["-c", $"while :; do {command} 2>/dev/null; done"], work, once.Environment);
    }

    public override string WatchNote => "mbsync in a busy loop";
}
