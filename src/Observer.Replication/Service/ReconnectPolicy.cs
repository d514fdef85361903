using System.Net.Sockets;
using Observer.Mail;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Observer.Replication;

/// <summary>
/// The one reconnect pipeline: retries with exponential backoff, jitter and a cap, around a circuit
/// breaker that, after repeated failures, stops touching the network for a while. Only failures a
/// retry can cure are retried: network errors, timeouts, protocol breaks, BYE and a temporarily
/// unavailable login. A refused login or certificate stops at once, with its message.
/// </summary>
public static class ReconnectPolicy
{
    /// <param name="maxAttempts">Null retries for ever (`run`), with the circuit breaker; a number gives up after that many
    /// attempts (`sync`, `verify`), without a breaker, so the error reported is the real one.</param>
    /// <param name="alsoRetry">Further failures to retry, beyond the transient ones: `run` keeps the service up through
    /// any error that is not the settings' fault, with the same backoff.</param>
    /// <param name="notForBreaker">Failures retried with backoff that say nothing about whether the servers can be reached (a
    /// connection that was made, then lost): they never open the circuit.</param>
    public static ResiliencePipeline Build(ReconnectOptions options, int? maxAttempts, TimeProvider time,
        Action<Exception, TimeSpan>? onRetry = null, Action<TimeSpan>? onBreak = null, Func<Exception, bool>? alsoRetry = null,
        Func<Exception, bool>? notForBreaker = null)
    {
        bool Retried(Exception e) => IsTransient(e) || (alsoRetry?.Invoke(e) ?? false);
        var retry = new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => Retried(e) || e is BrokenCircuitException),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.InitialDelay,
            MaxDelay = options.MaxDelay,
            MaxRetryAttempts = maxAttempts is { } n ? Math.Max(0, n - 1) : int.MaxValue,
            OnRetry = args =>
            {
                if (args.Outcome.Exception is { } ex and not BrokenCircuitException) onRetry?.Invoke(ex, args.RetryDelay);
                return ValueTask.CompletedTask;
            },
        };
        var breaker = new CircuitBreakerStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => Retried(e) && !(notForBreaker?.Invoke(e) ?? false)),
            FailureRatio = 1.0,
            MinimumThroughput = 3,
            SamplingDuration = TimeSpan.FromSeconds(Math.Max(30, options.MaxDelay.TotalSeconds * 3)),
            BreakDuration = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(500).Ticks, options.MaxDelay.Ticks)),
            OnOpened = args =>
            {
                onBreak?.Invoke(args.BreakDuration);
                return ValueTask.CompletedTask;
            },
        };
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        // One attempt means no retry at all: Polly refuses a retry strategy with none to make.
        if (retry.MaxRetryAttempts > 0) builder.AddRetry(retry);
        if (maxAttempts is null) builder.AddCircuitBreaker(breaker);
        return builder.Build();
    }

    public static bool IsTransient(Exception ex) => ex switch
    {
        ImapAuthenticationException auth => auth.Code?.Kind == ResponseCodeKind.Unavailable,
        ImapCertificateException => false,
        ImapConnectionException or ImapProtocolException => true,
        IOException or SocketException or TimeoutException => true,
        // The shared state's server restarting or out of reach; nothing was committed that the journal does not cover.
        State.StateUnavailableException => true,
        _ => false,
    };
}
