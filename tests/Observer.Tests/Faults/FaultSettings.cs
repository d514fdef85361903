using Observer.TestSupport;

namespace Observer.Tests;

internal static class FaultSettings
{
    /// <summary>Settings for fault tests: quick reconnects and timeouts, so recovery fits in a test run.</summary>
    public static Dictionary<string, string> For(PairAccounts accounts, string statePath, FaultProxy? primaryProxy = null, FaultProxy? replicaProxy = null)
    {
        var settings = accounts.Settings(statePath);
        if (primaryProxy is not null) settings["Primary:Port"] = primaryProxy.Port.ToString();
        if (replicaProxy is not null) settings["Replica:Port"] = replicaProxy.Port.ToString();
        foreach (var side in new[] { "Primary", "Replica" })
        {
            settings[$"{side}:ConnectTimeout"] = "00:00:05";
            settings[$"{side}:CommandTimeout"] = "00:00:05";
        }
        settings["Reconnect:InitialDelay"] = "00:00:00.200";
        settings["Reconnect:MaxDelay"] = "00:00:02";
        settings["Replication:PollInterval"] = "00:00:02";
        settings["Replication:ReconcileInterval"] = "00:00:30";
        settings["Replication:MoveWindow"] = "00:00:01";
        settings["Replication:TroubleRetryDelay"] = "00:00:01";
        settings["Replication:TroubleMaxDelay"] = "00:00:04";
        settings["Logging:LogLevel:Default"] = "Information";
        return settings;
    }
}
