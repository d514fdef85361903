namespace Observer.Imap;

/// <summary>
/// Lets a running command claim the untagged data that answers it (SELECT's EXISTS, FETCH's items).
/// Whatever it does not claim goes to the event channel.
/// </summary>
internal interface IUntaggedHandler
{
    /// <summary>Returns true if the command consumed the response.</summary>
    ValueTask<bool> HandleAsync(UntaggedResponse response, CancellationToken cancellationToken);
}
