namespace Observer.Mail;

public enum ResponseCondition
{
    Ok,
    No,
    Bad,
    Bye,
    PreAuth,
}
