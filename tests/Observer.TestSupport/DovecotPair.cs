namespace Observer.TestSupport;

/// <summary>
/// A primary and a replica Dovecot, deliberately with different hierarchy delimiters ('.' and '/'),
/// so every end-to-end test also exercises delimiter translation.
/// </summary>
public sealed class DovecotPair : ServerPair
{
    private DovecotPair(DovecotServer primary, DovecotServer replica) : base(primary, replica)
    {
    }

    public new DovecotServer Primary => (DovecotServer)base.Primary;
    public new DovecotServer Replica => (DovecotServer)base.Replica;

    /// <summary>
    /// Dovecot cut down to plain IMAP4rev1 with IDLE: no CONDSTORE, QRESYNC, NOTIFY, UIDPLUS, MOVE,
    /// MULTIAPPEND, LIST-EXTENDED, LIST-STATUS or ESEARCH, like an old or minimal server.
    /// </summary>
    public const string LegacyCapabilities = "protocol imap {\n  imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ NAMESPACE UNSELECT CHILDREN\n}\n";

    public static async Task<DovecotPair> StartAsync(string name, string? replicaExtraConfig = null, string? primaryExtraConfig = null,
        char primaryDelimiter = '.', char replicaDelimiter = '/', bool replicaTls = false, TestAccount? primaryMaster = null, TestAccount? replicaMaster = null)
    {
        var primary = DovecotServer.StartAsync(name + "-p", delimiter: primaryDelimiter, extraConfig: primaryExtraConfig, master: primaryMaster);
        var replica = DovecotServer.StartAsync(name + "-r", tls: replicaTls, delimiter: replicaDelimiter, extraConfig: replicaExtraConfig, master: replicaMaster);
        return new DovecotPair(await primary, await replica);
    }
}
