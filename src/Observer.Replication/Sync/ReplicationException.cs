namespace Observer.Replication;

/// <summary>A folder cannot be replicated as things stand; the folder is put in trouble and retried.</summary>
public class ReplicationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A copy on the replica does not match the primary's bytes.</summary>
public sealed class VerificationException(string message) : ReplicationException(message);
