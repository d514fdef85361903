namespace Observer.Replication;

/// <summary>
/// Raised when a watcher reports a change in INBOX, where new mail lands, or that changes may have been
/// missed (it reconnected), and lowered when a sync of INBOX begins. Slow folder work (Courier sleeps 2 s in every RENAME and DELETE) looks at it between
/// its steps, so new mail is not kept waiting behind a burst of folder changes.
/// </summary>
internal sealed class InboxMail
{
    private int _waiting;

    public void Note(ChangeSignal signal)
    {
        if (signal is ResyncAll || signal is FolderChanged changed && FolderNameMapper.IsInbox(changed.Folder)) Interlocked.Exchange(ref _waiting, 1);
    }

    /// <summary>True once per change reported since the last call, or since the last sync of INBOX began.</summary>
    public bool Take() => Interlocked.Exchange(ref _waiting, 0) == 1;
}
