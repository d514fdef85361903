using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// OfflineIMAP (offlineimap3): Python, IMAP to IMAP. Its watch mode is autorefresh (in 10-second
/// steps) with IDLE on INBOX.
/// </summary>
internal sealed class OfflineImapTool : SyncTool
{
    private const string Config = """
        [general]
        accounts = mirror
        metadata = {STATE_DIR}/offlineimap
        ui = quiet
        maxsyncaccounts = 1
        socktimeout = 60

        [Account mirror]
        localrepository = replica
        remoterepository = primary
        {WATCH}

        [Repository primary]
        type = IMAP
        remotehost = 127.0.0.1
        remoteport = {PRIMARY_PORT}
        remoteuser = {PRIMARY_USER}
        remotepass = {PRIMARY_PASSWORD}
        ssl = no
        starttls = no
        auth_mechanisms = PLAIN, LOGIN
        readonly = True
        createfolders = False
        {CONNECTIONS}

        [Repository replica]
        type = IMAP
        remotehost = 127.0.0.1
        remoteport = {REPLICA_PORT}
        remoteuser = {REPLICA_USER}
        remotepass = {REPLICA_PASSWORD}
        ssl = no
        starttls = no
        auth_mechanisms = PLAIN, LOGIN
        createfolders = True
        sync_deletes = yes
        expunge = yes
        {CONNECTIONS}

        """;

    public override string Id => "offlineimap";

    public override string Name => "offlineimap";

    protected override string Program => "offlineimap";

    protected override string? Package => "offlineimap3";

    public override ProcessSpec OneShot(PairAccounts accounts, string work) =>
        Spec(accounts, work, "offlineimaprc", "", "maxconnections = 1", "-o");

    public override ProcessSpec? Watch(PairAccounts accounts, string work) =>
        Spec(accounts, work, "offlineimaprc-watch", "autorefresh = 0.02\nquick = 0", "maxconnections = 2\nidlefolders = ['INBOX']");

    public override string WatchNote => "offlineimap, IDLE on INBOX, autorefresh";

    private static ProcessSpec Spec(PairAccounts accounts, string work, string file, string watch, string connections, params string[] extra)
    {
        var text = Fill(Config, accounts, work).Replace("{WATCH}", watch, StringComparison.Ordinal).Replace("{CONNECTIONS}", connections, StringComparison.Ordinal);
        var config = WritePrivate(work, file, text);
        var home = Directory.CreateDirectory(Path.Combine(work, "home")).FullName;
        return new ProcessSpec("offlineimap", ["-c", config, "-u", "quiet", .. extra], work, new Dictionary<string, string> { ["HOME"] = home });
    }
}
