using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Observer.TestSupport;

/// <summary>Keeps every log line at every level, so tests can search the full debug output.</summary>
public sealed class CapturingLogger : ILogger, ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public string AllText => string.Join('\n', _lines);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        _lines.Enqueue($"{logLevel}: {formatter(state, exception)}{(exception is null ? "" : " | " + exception)}");
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void Dispose() { }
}
