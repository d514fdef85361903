using System.Diagnostics;
using Observer.Mail;

namespace Observer.TestSupport;

/// <summary>One liveness probe: when it was appended to the primary's INBOX and how long it took to show on the replica.</summary>
public sealed record Probe(int Number, DateTime Sent, TimeSpan? Lag);

/// <summary>
/// Now and then appends a probe message to the primary's INBOX and times its arrival in the
/// replica's INBOX (NOOP, then a search by Message-ID, every 100 ms).
/// </summary>
public sealed class LivenessProber(PairAccounts accounts, MutationLog log, InFlightProbes inFlight)
{
    /// <summary>How long a probe is waited for before it counts as lost.</summary>
    public static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(45);
    private readonly List<Probe> _probes = [];
    private UserImapClient? _primary;
    private UserImapClient? _replica;

    public IReadOnlyList<Probe> Probes
    {
        get { lock (_probes) return _probes.ToList(); }
    }

    /// <summary>Probes every <paramref name="every"/> (±20 %) until <paramref name="stop"/>; the probe in flight is still timed.</summary>
    public async Task RunAsync(Random random, TimeSpan every, CancellationToken stop)
    {
        try
        {
            for (var n = 1; ; n++)
            {
                try
                {
                    await Task.Delay(every * (0.8 + 0.4 * random.NextDouble()), stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                Probe probe;
                try
                {
                    probe = await ProbeAsync(n);
                }
                catch (Exception ex) when (ex is ImapException or IOException)
                {
                    // The prober's own connection failed (it does not go through the fault proxies): no measurement.
                    log.Record("probe", $"probe {n} not measured: {ex.Message}");
                    continue;
                }
                lock (_probes) _probes.Add(probe);
                log.Record("probe", probe.Lag is { } lag ? $"probe {n} reached the replica in {lag.TotalSeconds:0.00} s" : $"probe {n} did not reach the replica within {GiveUp.TotalSeconds:0} s");
            }
        }
        finally
        {
            if (_primary is not null) await _primary.DisposeAsync();
            if (_replica is not null) await _replica.DisposeAsync();
        }
    }

    private async Task<Probe> ProbeAsync(int n)
    {
        var id = $"<probe-{n}-{Guid.NewGuid():N}@convergence.example.com>";
        var message = new AppendMessage(ImapLiteral.FromString($"From: probe@example.com\r\nSubject: convergence probe {n}\r\nMessage-ID: {id}\r\n\r\nprobe\r\n"));
        _primary = await ConnectedAsync(_primary, accounts.PrimaryClientAsync);
        _replica = await ConnectedAsync(_replica, accounts.ReplicaClientAsync);
        if (_replica.Selected is null) await _replica.SelectAsync("INBOX");

        uint uid;
        DateTime sent;
        var clock = new Stopwatch();
        await inFlight.Gate.WaitAsync();
        try
        {
            sent = DateTime.Now;
            clock.Start();
            var result = await _primary.AppendAsync("INBOX", message);
            uid = result.Uids?.Expand().FirstOrDefault() ?? await FindAsync(_primary, id, select: true);
            inFlight.Add(uid);
        }
        finally
        {
            inFlight.Gate.Release();
        }
        log.Record("probe", $"probe {n} appended to INBOX as uid {uid}");
        try
        {
            while (clock.Elapsed < GiveUp)
            {
                if (await FindAsync(_replica, id, select: false) != 0) return new Probe(n, sent, clock.Elapsed);
                await Task.Delay(100);
            }
            return new Probe(n, sent, null);
        }
        finally
        {
            inFlight.Remove(uid);
        }
    }

    /// <summary>The UID of the message with this Message-ID in INBOX, or 0.</summary>
    private static async Task<uint> FindAsync(UserImapClient client, string messageId, bool select)
    {
        if (select) await client.SelectAsync("INBOX");
        // Some servers only take in new messages at NOOP.
        await client.NoopAsync();
        return (await client.UidSearchAsync(SearchQuery.Header("Message-ID", messageId))).Expand().FirstOrDefault();
    }

    private static async Task<UserImapClient> ConnectedAsync(UserImapClient? client, Func<Task<UserImapClient>> connect)
    {
        if (client is { IsConnected: true }) return client;
        if (client is not null) await client.DisposeAsync();
        return await connect();
    }
}
