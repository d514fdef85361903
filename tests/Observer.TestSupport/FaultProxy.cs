using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Observer.TestSupport;

public enum FlowDirection
{
    ClientToServer,
    ServerToClient,
}

/// <summary>
/// A TCP proxy on loopback that breaks connections on purpose: it can cut a connection after N
/// bytes in either direction (so, often, in the middle of a literal), stall it without closing it,
/// refuse new connections for a while, and rewrite what the server sends.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<int, ProxiedConnection> _connections = new();
    private readonly Task _accept;
    private int _nextId;
    private long _refuseUntil;
    private long _stallUntil;

    private FaultProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accept = AcceptLoopAsync();
    }

    public static FaultProxy Start(string targetHost, int targetPort) => new(targetHost, targetPort);

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections accepted and forwarded so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);
    private int _accepted;

    /// <summary>Faults injected so far: cuts, stalls and refused connections.</summary>
    public int Faults => Volatile.Read(ref _faults);
    private int _faults;

    public int Cuts => Volatile.Read(ref _cuts);
    private int _cuts;

    public int OpenConnections => _connections.Count;

    /// <summary>The most connections open through the proxy at once, counted from the moment each is accepted until either side closes it.</summary>
    public int PeakConnections => Volatile.Read(ref _peak);
    private int _peak;

    /// <summary>Decides, for each new connection, after how many bytes in which direction to cut it (null: never).</summary>
    public Func<(FlowDirection Direction, long Bytes)?>? CutPlan { get; set; }

    /// <summary>Rewrites bytes from the server before the client sees them (hostile-server tests).</summary>
    public Func<byte[], int, byte[]>? ServerTransform { get; set; }

    /// <summary>Closes every open connection now.</summary>
    public int CutAll()
    {
        var n = 0;
        foreach (var c in _connections.Values)
        {
            c.Close();
            n++;
        }
        Interlocked.Add(ref _faults, n);
        Interlocked.Add(ref _cuts, n);
        return n;
    }

    /// <summary>Closes one open connection chosen by <paramref name="random"/>; returns false if there was none.</summary>
    public bool CutOne(Random random)
    {
        // Only those under way: cutting one still connecting would make the chaos a different one.
        var open = _connections.Values.Where(c => c.Forwarding).ToArray();
        if (open.Length == 0) return false;
        open[random.Next(open.Length)].Close();
        Interlocked.Increment(ref _faults);
        Interlocked.Increment(ref _cuts);
        return true;
    }

    /// <summary>Stops forwarding on every connection for <paramref name="duration"/>, without closing anything.</summary>
    public void StallFor(TimeSpan duration)
    {
        Interlocked.Exchange(ref _stallUntil, DateTime.UtcNow.Add(duration).Ticks);
        Interlocked.Increment(ref _faults);
    }

    /// <summary>New connections are closed at once for <paramref name="duration"/>.</summary>
    public void RefuseFor(TimeSpan duration)
    {
        Interlocked.Exchange(ref _refuseUntil, DateTime.UtcNow.Add(duration).Ticks);
        Interlocked.Increment(ref _faults);
    }

    private bool Refusing => DateTime.UtcNow.Ticks < Interlocked.Read(ref _refuseUntil);

    private async Task WaitWhileStalledAsync(CancellationToken cancellationToken)
    {
        while (DateTime.UtcNow.Ticks < Interlocked.Read(ref _stallUntil)) await Task.Delay(20, cancellationToken);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            if (Refusing)
            {
                client.Close();
                continue;
            }
            // Known from the moment it is accepted: a CutAll while the server side is still connecting
            // closes it too (a CI run's service stayed connected through one it had just opened).
            var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var connection = new ProxiedConnection(client, server);
            var id = Interlocked.Increment(ref _nextId);
            _connections[id] = connection;
            int open = _connections.Count, peak;
            while (open > (peak = Volatile.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, open, peak) != peak)
            {
            }
            _ = Task.Run(() => ServeAsync(id, connection, client, server));
        }
    }

    private async Task ServeAsync(int id, ProxiedConnection connection, Socket client, Socket server)
    {
        client.NoDelay = true;
        try
        {
            await server.ConnectAsync(_targetHost, _targetPort, _stop.Token);
        }
        catch (Exception)
        {
            connection.Close();
            _connections.TryRemove(id, out _);
            return;
        }
        if (connection.Closed)
        {
            _connections.TryRemove(id, out _);
            return;
        }
        Interlocked.Increment(ref _accepted);
        connection.Forwarding = true;
        var plan = CutPlan?.Invoke();
        try
        {
            await Task.WhenAny(
                PumpAsync(connection, client, server, FlowDirection.ClientToServer, plan),
                PumpAsync(connection, server, client, FlowDirection.ServerToClient, plan));
        }
        finally
        {
            connection.Close();
            _connections.TryRemove(id, out _);
        }
    }

    private async Task PumpAsync(ProxiedConnection _, Socket from, Socket to, FlowDirection direction, (FlowDirection Direction, long Bytes)? plan)
    {
        var buffer = new byte[16 * 1024];
        long forwarded = 0;
        var budget = plan is { } p && p.Direction == direction ? p.Bytes : long.MaxValue;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0) return;
                await WaitWhileStalledAsync(_stop.Token);
                var bytes = buffer.AsMemory(0, n);
                if (direction == FlowDirection.ServerToClient && ServerTransform is { } transform) bytes = transform(buffer, n);
                if (forwarded + bytes.Length >= budget)
                {
                    var allowed = (int)(budget - forwarded);
                    if (allowed > 0) await to.SendAsync(bytes[..allowed], SocketFlags.None, _stop.Token);
                    Interlocked.Increment(ref _faults);
                    Interlocked.Increment(ref _cuts);
                    return;
                }
                await to.SendAsync(bytes, SocketFlags.None, _stop.Token);
                forwarded += bytes.Length;
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Either side closing ends the pair; that is the point of this class.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var c in _connections.Values) c.Close();
        try
        {
            await _accept;
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        _stop.Dispose();
    }

    private sealed class ProxiedConnection(Socket client, Socket server)
    {
        private int _closed;

        public bool Closed => Volatile.Read(ref _closed) == 1;

        /// <summary>Connected to the server: bytes flow both ways.</summary>
        public bool Forwarding { get; set; }

        public void Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 1) return;
            // An abortive close, as when a network or process dies.
            try
            {
                client.LingerState = new LingerOption(true, 0);
                server.LingerState = new LingerOption(true, 0);
            }
            catch (SocketException)
            {
                // Already gone.
            }
            client.Close();
            server.Close();
        }
    }
}
