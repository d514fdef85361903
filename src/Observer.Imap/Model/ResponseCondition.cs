namespace Observer.Imap;

public enum ResponseCondition
{
    Ok,
    No,
    Bad,
    Bye,
    PreAuth,
}
