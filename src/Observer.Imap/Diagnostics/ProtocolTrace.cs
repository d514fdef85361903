using Microsoft.Extensions.Logging;

namespace Observer.Imap;

/// <summary>
/// The protocol trace. Commands are logged from their redacted rendering and literal contents
/// are summarised, so neither passwords nor mail bodies reach the log.
/// </summary>
internal sealed partial class ProtocolTrace(ILogger? logger, string name)
{
    public bool Enabled => logger?.IsEnabled(LogLevel.Trace) == true;

    public void Sent(string redactedLine)
    {
        if (Enabled) LogSent(logger!, name, redactedLine);
    }

    public void Received(ResponseFrame frame)
    {
        if (Enabled) LogReceived(logger!, name, frame.ToTraceString());
    }

    public void Broken(string reason)
    {
        if (logger?.IsEnabled(LogLevel.Debug) == true) LogBroken(logger, name, reason);
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Trace, Message = "{Connection} C: {Line}")]
    private static partial void LogSent(ILogger logger, string connection, string line);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Trace, Message = "{Connection} S: {Line}")]
    private static partial void LogReceived(ILogger logger, string connection, string line);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug, Message = "{Connection} connection broken: {Reason}")]
    private static partial void LogBroken(ILogger logger, string connection, string reason);
}
