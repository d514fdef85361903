using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Observer.TestSupport;

/// <summary>
/// A loopback server in which the test plays the IMAP server, line by line. Only for what a
/// real server cannot be made to do: malformed or hostile responses, exotic mechanisms, cut literals.
/// </summary>
public sealed class ScriptedImapServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<ScriptedSession, Task> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _sessions = [];
    private readonly Task _accept;

    private ScriptedImapServer(Func<ScriptedSession, Task> script)
    {
        _script = script;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accept = AcceptLoopAsync();
    }

    /// <summary>Serves every connection with <paramref name="script"/>.</summary>
    public static ScriptedImapServer Start(Func<ScriptedSession, Task> script) => new(script);

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections { get; private set; }

    /// <summary>The first exception a session script threw (a failed expectation), if any.</summary>
    public Exception? Failure { get; private set; }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient tcp;
            try
            {
                tcp = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            Connections++;
            lock (_sessions) _sessions.Add(RunSessionAsync(tcp));
        }
    }

    private async Task RunSessionAsync(TcpClient tcp)
    {
        using var _ = tcp;
        var session = new ScriptedSession(tcp.GetStream(), _stop.Token);
        try
        {
            await _script(session);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away; whether that was expected is for the test to assert.
        }
        catch (Exception ex)
        {
            Failure ??= ex;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accept;
        Task[] sessions;
        lock (_sessions) sessions = [.. _sessions];
        await Task.WhenAll(sessions);
        _stop.Dispose();
    }
}

/// <summary>One connection to a <see cref="ScriptedImapServer"/>.</summary>
public sealed class ScriptedSession(NetworkStream stream, CancellationToken stop)
{
    private readonly List<byte> _pending = [];
    private readonly byte[] _buffer = new byte[8192];

    /// <summary>Cancelled when the server is disposed: a script that waits on the test must wait with it.</summary>
    public CancellationToken Stopping => stop;

    public async Task SendAsync(string text) => await stream.WriteAsync(Encoding.UTF8.GetBytes(text), stop);

    public async Task SendBytesAsync(byte[] bytes) => await stream.WriteAsync(bytes, stop);

    /// <summary>Sends the usual greeting with the given capabilities.</summary>
    public Task GreetAsync(string capabilities = "IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN") =>
        SendAsync($"* OK [CAPABILITY {capabilities}] scripted server ready\r\n");

    public async Task<string> ReadLineAsync()
    {
        while (true)
        {
            var index = _pending.IndexOf((byte)'\n');
            if (index >= 0)
            {
                var line = Encoding.UTF8.GetString(_pending.GetRange(0, index).ToArray()).TrimEnd('\r');
                _pending.RemoveRange(0, index + 1);
                return line;
            }
            await FillAsync();
        }
    }

    public async Task<byte[]> ReadExactAsync(int count)
    {
        while (_pending.Count < count) await FillAsync();
        var bytes = _pending.GetRange(0, count).ToArray();
        _pending.RemoveRange(0, count);
        return bytes;
    }

    /// <summary>Reads a command line, checks its verb, and returns its tag.</summary>
    public async Task<string> ExpectAsync(string verb)
    {
        var line = await ReadLineAsync();
        var parts = line.Split(' ', 3);
        if (parts.Length < 2 || !line[(parts[0].Length + 1)..].StartsWith(verb, StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"expected {verb}, got: {line}");
        LastLine = line;
        return parts[0];
    }

    /// <summary>The last command line read by <see cref="ExpectAsync"/>.</summary>
    public string LastLine { get; private set; } = "";

    /// <summary>Answers a LOGIN with OK.</summary>
    public async Task AcceptLoginAsync(string capabilities = "IMAP4rev1 LITERAL+ IDLE UIDPLUS")
    {
        var tag = await ExpectAsync("LOGIN");
        await SendAsync($"{tag} OK [CAPABILITY {capabilities}] logged in\r\n");
    }

    private async Task FillAsync()
    {
        var n = await stream.ReadAsync(_buffer, stop);
        if (n == 0) throw new IOException("client closed the connection");
        _pending.AddRange(_buffer.AsSpan(0, n).ToArray());
    }

    public void Close() => stream.Close();
}
