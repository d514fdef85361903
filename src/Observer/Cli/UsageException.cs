namespace Observer.Cli;

/// <summary>A command line that parses but asks for something that is not there (an unknown held folder): exit 2.</summary>
public sealed class UsageException(string message) : Exception(message);
