using Observer.Replication;

namespace Observer.Configuration;

/// <summary>
/// One account replicated by the service (an entry of the Accounts list). Its logins start from the
/// top-level Primary and Replica sections, and any key the entry gives overrides the inherited one.
/// </summary>
public sealed class AccountOptions
{
    /// <summary>The account's name in the state, in logs and on the command line (--account).</summary>
    public string Name { get; set; } = "";

    public EndpointOptions Primary { get; set; } = new();

    public EndpointOptions Replica { get; set; } = new();

    /// <summary>Where the entry was given, for error messages: Accounts:0, or accounts.txt line 3.</summary>
    public string Key { get; set; } = "";

    /// <summary>A line of the AccountsFile: its servers and passwords are the Primary and Replica sections', with nothing of its own.</summary>
    public bool FromFile { get; set; }

    /// <summary>Whether a reload changed nothing that this account's replication depends on.</summary>
    public bool SameAs(AccountOptions other) => Name == other.Name && Primary.SameAs(other.Primary) && Replica.SameAs(other.Replica);

    /// <summary>The name shown in errors, whether or not it was given.</summary>
    public string Label => Name.Length > 0 ? $"{Key} ({Name})" : Key;
}
