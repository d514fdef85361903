namespace Observer.Imap;

/// <summary>Claims untagged responses of one type that satisfy a filter and keeps them in arrival order.</summary>
internal sealed class CollectingHandler<T>(Func<T, bool>? accept = null) : IUntaggedHandler where T : UntaggedResponse
{
    public List<T> Items { get; } = [];

    public ValueTask<bool> HandleAsync(UntaggedResponse response, CancellationToken cancellationToken)
    {
        if (response is not T item || (accept is not null && !accept(item))) return ValueTask.FromResult(false);
        Items.Add(item);
        return ValueTask.FromResult(true);
    }
}

/// <summary>Several handlers tried in turn; the first that claims a response wins.</summary>
internal sealed class CompositeHandler(params IUntaggedHandler[] handlers) : IUntaggedHandler
{
    public async ValueTask<bool> HandleAsync(UntaggedResponse response, CancellationToken cancellationToken)
    {
        foreach (var handler in handlers)
            if (await handler.HandleAsync(response, cancellationToken).ConfigureAwait(false)) return true;
        return false;
    }
}
