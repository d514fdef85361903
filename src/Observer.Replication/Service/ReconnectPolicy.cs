using System.Net.Sockets;
using Observer.Imap;
using Polly;
using Polly.Retry;

namespace Observer.Replication;

/// <summary>
/// The one reconnect pipeline: exponential backoff with jitter, capped. Only failures that a retry
/// can cure are retried: network errors, timeouts, protocol breaks, BYE and a temporarily unavailable
/// login. A refused login or certificate stops at once, with its message.
/// </summary>
public static class ReconnectPolicy
{
    public static ResiliencePipeline Build(ReconnectOptions options, int? maxAttempts, TimeProvider time, Action<Exception, TimeSpan>? onRetry = null)
    {
        var retry = new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.InitialDelay,
            MaxDelay = options.MaxDelay,
            MaxRetryAttempts = maxAttempts is { } n ? Math.Max(0, n - 1) : int.MaxValue,
            OnRetry = args =>
            {
                if (args.Outcome.Exception is { } ex) onRetry?.Invoke(ex, args.RetryDelay);
                return ValueTask.CompletedTask;
            },
        };
        return new ResiliencePipelineBuilder { TimeProvider = time }.AddRetry(retry).Build();
    }

    public static bool IsTransient(Exception ex) => ex switch
    {
        ImapAuthenticationException auth => auth.Code?.Kind == ResponseCodeKind.Unavailable,
        ImapCertificateException => false,
        ImapConnectionException or ImapProtocolException => true,
        IOException or SocketException or TimeoutException => true,
        _ => false,
    };
}
