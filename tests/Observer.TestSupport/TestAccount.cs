namespace Observer.TestSupport;

public sealed record TestAccount(string User, string Password);
