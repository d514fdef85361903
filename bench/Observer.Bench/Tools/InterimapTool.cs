using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// interimap: Perl, QRESYNC-based and two-way ([local] is the replica, [remote] the primary). It
/// needs an empty replica that nothing else writes to, which each run here has.
/// </summary>
internal sealed class InterimapTool : SyncTool
{
    private const string Config = """
        database = {STATE_DIR}/interimap.db
        list-mailbox = "*"
        logfile = {STATE_DIR}/interimap.log

        [local]
        type = imap
        host = 127.0.0.1
        port = {REPLICA_PORT}
        STARTTLS = NO
        auth = PLAIN LOGIN
        username = {REPLICA_USER}
        password = {REPLICA_PASSWORD}
        compress = NO

        [remote]
        type = imap
        host = 127.0.0.1
        port = {PRIMARY_PORT}
        STARTTLS = NO
        auth = PLAIN LOGIN
        username = {PRIMARY_USER}
        password = {PRIMARY_PASSWORD}
        compress = NO

        """;

    public override string Id => "interimap";

    public override string Name => "interimap";

    protected override string Program => "interimap";

    protected override string? Package => "interimap";

    public override ProcessSpec OneShot(PairAccounts accounts, string work) => Spec(accounts, work, "-q");

    // Measured by the research for this benchmark: --watch=1 reacts fastest; --notify made new
    // messages wait for the next poll.
    // --watch cannot start on an empty database ("unable to open database file"): one plain run first.
    public override ProcessSpec? Watch(PairAccounts accounts, string work)
    {
        var config = Spec(accounts, work).Arguments[0];
        return new ProcessSpec("sh", ["-c", $"interimap '{config}' -q && exec interimap '{config}' -q --watch=1"], work, Home(work));
    }

    public override string WatchNote => "interimap --watch=1";

    private static ProcessSpec Spec(PairAccounts accounts, string work, params string[] extra)
    {
        var config = WritePrivate(work, "interimap.conf", Fill(Config, accounts, work));
        return new ProcessSpec("interimap", [$"--config={config}", .. extra], work, Home(work));
    }

    private static Dictionary<string, string> Home(string work) => new() { ["HOME"] = work };
}
