using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// Dovecot's own `doveadm backup` pulling from the primary over imapc into the replica's store:
/// the server-native way. It runs as root next to the replica server, on its configuration.
/// </summary>
internal sealed class DoveadmTool : SyncTool
{
    // Without "modseq" in imapc_features: with it, a UID clash was seen to keep the replica's message silently.
    private const string Config = """
        !include {REPLICA_DOVECOT_CONF}
        imapc_host = 127.0.0.1
        imapc_port = {PRIMARY_PORT}
        imapc_user = {PRIMARY_USER}
        imapc_password = {PRIMARY_PASSWORD}
        imapc_ssl = no
        imapc_features = rfc822.size fetch-headers
        mail_prefetch_count = 20

        """;

    public override string Id => "doveadm";

    public override string Name => "doveadm backup";

    protected override string Program => "doveadm";

    protected override string? Package => "dovecot-core";

    public override string? Missing => Environment.UserName != "root" ? "doveadm backup needs root (it writes the replica's mail store)" : base.Missing;

    public override ProcessSpec OneShot(PairAccounts accounts, string work) =>
        new("doveadm", ["-c", WritePrivate(work, "dsync.conf", Fill(Config, accounts, work)), "backup", "-R", "-u", accounts.Replica.User, "imapc:"], work);
}
