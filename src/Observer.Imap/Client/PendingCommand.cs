namespace Observer.Imap;

/// <summary>A command that has been sent (or is being sent) and awaits its tagged completion.</summary>
internal sealed class PendingCommand(string tag, string verb, IUntaggedHandler? handler)
{
    private readonly TaskCompletionSource<TaggedResponse> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<ContinuationResponse?>? _continuation;

    public string Tag { get; } = tag;
    public string Verb { get; } = verb;

    public IUntaggedHandler? Handler { get; } = handler;

    /// <summary>True once the caller gave up waiting: answers to it are dropped rather than handed to nobody.</summary>
    public bool IsAbandoned { get; private set; }

    /// <summary>While true (inside IDLE) silence from the server is expected and the watchdog ignores this command.</summary>
    public bool IsIdling { get; set; }

    /// <summary>Where the connection's totals stood when this command was sent, for its deadline.</summary>
    public CommandClock Clock { get; set; }

    public Task<TaggedResponse> Completion => _completion.Task;

    public bool IsCompleted => _completion.Task.IsCompleted;

    public void Abandon() => IsAbandoned = true;

    /// <summary>Arms the wait for a "+"; must be called before the bytes that provoke it are written.</summary>
    public Task<ContinuationResponse?> ExpectContinuation()
    {
        _continuation = new TaskCompletionSource<ContinuationResponse?>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_completion.Task.IsCompleted) _continuation.TrySetResult(null);
        return _continuation.Task;
    }

    public void OfferContinuation(ContinuationResponse response) => _continuation?.TrySetResult(response);

    public void Complete(TaggedResponse response)
    {
        _completion.TrySetResult(response);
        // A command refused before its literal was sent never gets a "+": release the writer waiting for one.
        _continuation?.TrySetResult(null);
    }

    public void Fail(Exception error)
    {
        _completion.TrySetException(error);
        _continuation?.TrySetException(error);
        // Observed here so that an abandoned command's failure is not reported as unobserved.
        _ = _completion.Task.Exception;
    }
}
