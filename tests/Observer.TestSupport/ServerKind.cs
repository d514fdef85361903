namespace Observer.TestSupport;

/// <summary>The IMAP servers testservers/ can start, each from a folder of scripts with the same interface.</summary>
public enum ServerKind
{
    Dovecot,
    Cyrus,
    Courier,
}

public static class ServerKinds
{
    public static IReadOnlyList<ServerKind> All { get; } = [ServerKind.Dovecot, ServerKind.Cyrus, ServerKind.Courier];

    /// <summary>The folder under testservers/ that holds the kind's start.sh, stop.sh and add-user.sh.</summary>
    public static string ScriptFolder(this ServerKind kind) => kind.ToString().ToLowerInvariant();

    public static string Script(this ServerKind kind, string file) => Path.Combine(RepoPaths.TestServers, kind.ScriptFolder(), file);

    /// <summary>True when this checkout has the kind's scripts.</summary>
    public static bool IsAvailable(this ServerKind kind) => File.Exists(kind.Script("start.sh"));

    public static ServerKind Parse(string text) =>
        Enum.TryParse<ServerKind>(text, ignoreCase: true, out var kind) && Enum.IsDefined(kind)
            ? kind
            : throw new ArgumentException($"unknown server kind '{text}' (dovecot, cyrus or courier)");
}
