namespace Observer.TestSupport;

/// <summary>
/// Turns a folder path ("Archive/2026", '/' between levels) into a server's own name: its personal
/// namespace prefix ("INBOX." on Cyrus and Courier) and hierarchy delimiter. The same paths work
/// on every kind of server, and match the keys of <see cref="AccountSnapshot"/>.
/// </summary>
public sealed record FolderNaming(string Prefix, char Delimiter)
{
    /// <summary>Dovecot's default: no prefix, '.' between levels.</summary>
    public static FolderNaming Dovecot { get; } = new("", '.');

    public static async Task<FolderNaming> ReadAsync(UserImapClient client) =>
        new(client.PersonalPrefix, client.PersonalDelimiter ?? await client.GetDelimiterAsync() ?? '/');

    public string ServerName(string path) =>
        path.Equals("INBOX", StringComparison.OrdinalIgnoreCase) ? "INBOX" : Prefix + path.Replace('/', Delimiter);

    /// <summary>The path of a server name; the inverse of <see cref="ServerName"/>.</summary>
    public string Path(string serverName) => AccountSnapshot.Key(serverName, Delimiter, Prefix);
}
