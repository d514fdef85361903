namespace Observer.Configuration;

/// <summary>
/// The accounts of a server, one a line, for a list too long for the settings file (the AccountsFile setting):
/// <c>NAME [PRIMARY-USER [REPLICA-USER]]</c>. The users default to the name; blank lines and # comments are
/// skipped. Everything else (servers, a master user and its password) comes from the Primary and Replica sections.
/// </summary>
public static class AccountsFile
{
    public sealed record Line(int Number, string Name, string PrimaryUser, string ReplicaUser);

    public static IReadOnlyList<Line> Read(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationProblemException($"cannot read AccountsFile {path}: {ex.Message}", ex);
        }
        var accounts = new List<Line>();
        for (var i = 0; i < lines.Length; i++)
        {
            var text = lines[i];
            var hash = text.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0) text = text[..hash];
            var fields = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0) continue;
            if (fields.Length > 3)
                throw new ConfigurationProblemException($"AccountsFile {path} line {i + 1} has {fields.Length} fields; write NAME [PRIMARY-USER [REPLICA-USER]], one account a line");
            accounts.Add(new Line(i + 1, fields[0], fields.Length > 1 ? fields[1] : fields[0], fields.Length > 2 ? fields[2] : fields.Length > 1 ? fields[1] : fields[0]));
        }
        return accounts;
    }
}
