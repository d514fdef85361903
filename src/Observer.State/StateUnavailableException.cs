namespace Observer.State;

/// <summary>
/// The shared state database (PostgreSQL) could not be reached, or its connection was lost mid-statement. Unlike a
/// <see cref="StateException"/> it is transient: the work is retried with the reconnect backoff, and what was not
/// committed is recovered from the journal as after a crash.
/// </summary>
public sealed class StateUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
