namespace Observer.Replication;

/// <summary>A folder cannot be replicated as things stand; the folder is put in trouble and retried.</summary>
public class ReplicationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A copy on the replica does not match the primary's bytes.</summary>
public sealed class VerificationException(string message) : ReplicationException(message);

/// <summary>
/// The primary folder could not be opened and no longer exists there: renamed or deleted since the
/// folder tree was last read. Not a trouble: the tree sync deals with it.
/// </summary>
public sealed class FolderVanishedException(string folder, Exception inner) : ReplicationException($"folder {folder} is gone from the primary", inner)
{
    public string Folder { get; } = folder;
}
