namespace Observer.State;

/// <summary>The state database cannot be used as it is (unreadable, corrupt, locked, or from a newer version).</summary>
public sealed class StateException(string message, Exception? inner = null) : Exception(message, inner);
