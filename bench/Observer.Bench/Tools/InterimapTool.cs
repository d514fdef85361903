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
    public override ProcessSpec? Watch(PairAccounts accounts, string work) => Spec(accounts, work, "-q", "--watch=1");

    public override string WatchNote => "interimap --watch=1";

    private static ProcessSpec Spec(PairAccounts accounts, string work, params string[] extra)
    {
        var config = WritePrivate(work, "interimap.conf", Fill(Config, accounts, work));
        return new ProcessSpec("interimap", [$"--config={config}", .. extra], work, new Dictionary<string, string> { ["HOME"] = work });
    }
}
