using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// CPU used by both servers: each master process with every process under it. A master reaps its
/// finished imap processes, so their CPU stays counted (in the master's cutime).
/// </summary>
internal sealed class ServerCpu(ServerPair pair)
{
    public double Seconds => ProcStat.TreeCpuSeconds(pair.Primary.Pid) + ProcStat.TreeCpuSeconds(pair.Replica.Pid);
}
