namespace Observer.Imap;

/// <summary>RFC 5465 event names.</summary>
public enum NotifyEvent
{
    MessageNew,
    MessageExpunge,
    FlagChange,
    AnnotationChange,
    MailboxName,
    SubscriptionChange,
    MailboxMetadataChange,
    ServerMetadataChange,
}

public enum NotifyMailboxes
{
    Selected,
    SelectedDelayed,
    Personal,
    Inboxes,
    Subscribed,
    Subtree,
    Mailboxes,
}

/// <summary>One event group of NOTIFY SET: which mailboxes, and which events to report for them.</summary>
public sealed record NotifyFilter(NotifyMailboxes Mailboxes, IReadOnlyList<NotifyEvent> Events)
{
    /// <summary>For Subtree and Mailboxes: the mailbox names.</summary>
    public IReadOnlyList<string> Names { get; init; } = [];

    /// <summary>FETCH attributes sent with MessageNew for the selected mailbox, such as "UID FLAGS".</summary>
    public string? MessageNewFetch { get; init; }
}

public sealed record NotifyRequest(IReadOnlyList<NotifyFilter> Filters)
{
    /// <summary>NOTIFY SET STATUS: report every watched mailbox's STATUS at once.</summary>
    public bool InitialStatus { get; init; }
}
