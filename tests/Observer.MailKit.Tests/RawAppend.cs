using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Observer.TestSupport;

namespace Observer.MailKit.Tests;

/// <summary>
/// One MULTIAPPEND written by hand on a plain connection: each message's bytes go out as a literal that
/// no IMAP library has touched, with the internal date in the offset it was given. What the server
/// stores from it is what MailKit's appends must store too.
/// </summary>
internal static class RawAppend
{
    public static async Task MultiAppendAsync(TestServer server, TestAccount account, string mailbox, IReadOnlyList<byte[]> messages, string flags, DateTimeOffset date)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        var stream = tcp.GetStream();
        using var lines = new StreamReader(stream, Encoding.ASCII);
        await lines.ReadLineAsync();
        await CommandAsync(stream, lines, "a1", Encoding.ASCII.GetBytes($"a1 LOGIN \"{account.User}\" \"{account.Password}\"\r\n"));

        var offset = date.Offset;
        var internalDate = date.ToString("dd-MMM-yyyy HH:mm:ss ", CultureInfo.InvariantCulture) + (offset < TimeSpan.Zero ? "-" : "+") + offset.ToString("hhmm", CultureInfo.InvariantCulture);
        using var append = new MemoryStream();
        append.Write(Encoding.ASCII.GetBytes($"a2 APPEND \"{mailbox}\""));
        foreach (var message in messages)
        {
            // LITERAL+: no waiting for the server's go-ahead between messages.
            append.Write(Encoding.ASCII.GetBytes($" ({flags}) \"{internalDate}\" {{{message.Length}+}}\r\n"));
            append.Write(message);
        }
        append.Write("\r\n"u8);
        await CommandAsync(stream, lines, "a2", append.ToArray());
        await CommandAsync(stream, lines, "a3", "a3 LOGOUT\r\n"u8.ToArray());
    }

    /// <summary>Sends a command and reads to its tagged answer, which must be OK.</summary>
    private static async Task CommandAsync(NetworkStream stream, StreamReader lines, string tag, byte[] command)
    {
        await stream.WriteAsync(command);
        while (await lines.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith(tag + " ", StringComparison.Ordinal)) continue;
            if (!line.StartsWith(tag + " OK", StringComparison.OrdinalIgnoreCase)) throw new InvalidOperationException($"the server refused: {line}");
            return;
        }
        throw new IOException("the server closed the connection");
    }
}
