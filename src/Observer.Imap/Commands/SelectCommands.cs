namespace Observer.Imap;

internal static class SelectCommands
{
    public static async Task<SelectedMailbox> SelectAsync(ImapClient client, string verb, string mailbox, SelectOptions options, CancellationToken cancellationToken)
    {
        var command = client.Command(verb).Sp().Mailbox(mailbox);
        if (options.QResync is { } q && client.IsEnabled("QRESYNC"))
        {
            command.Text(" (QRESYNC (").Number(q.UidValidity).Sp().Number(q.ModSeq);
            if (q.KnownUids is { IsEmpty: false } known) command.Sp().Text(known.ToString());
            command.Text("))");
        }
        else if ((options.CondStore || options.QResync is not null) && client.Capabilities.CondStore)
        {
            command.Text(" (CONDSTORE)");
        }

        var state = new SelectState(mailbox);
        TaggedResponse done;
        try
        {
            done = await client.ExecuteAsync(command, state, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            client.Selected = null;
            state.DisposeChanged();
            throw;
        }
        if (done.Condition != ResponseCondition.Ok)
        {
            // RFC 3501 §6.3.1: a failed SELECT leaves no mailbox selected.
            client.Selected = null;
            state.DisposeChanged();
            done.EnsureOk(verb);
        }
        var selected = state.Build(readOnly: verb == "EXAMINE" || done.Code?.Kind == ResponseCodeKind.ReadOnly);
        client.Selected = selected;
        return selected;
    }

    public static async Task LeaveAsync(ImapClient client, string verb, CancellationToken cancellationToken)
    {
        if (verb == "UNSELECT" && !client.Capabilities.Unselect)
        {
            // Without UNSELECT, selecting a mailbox that cannot exist deselects without CLOSE's implicit expunge.
            await client.ExecuteAsync(client.Command("EXAMINE").Sp().Quoted("observer-unselect-" + Guid.NewGuid().ToString("N")), null, cancellationToken)
                .ConfigureAwait(false);
        }
        else
        {
            await client.ExecuteOkAsync(client.Command(verb), null, cancellationToken).ConfigureAwait(false);
        }
        client.Selected = null;
    }

    /// <summary>Claims what SELECT returns about the new mailbox.</summary>
    private sealed class SelectState(string name) : IUntaggedHandler
    {
        private readonly List<MessageData> _changed = [];
        private readonly List<UidSet> _vanished = [];
        private uint _exists;
        private uint _uidValidity;
        private uint? _uidNext;
        private ulong? _highestModSeq;
        private bool _noModSeq;
        private MessageFlags _flags = MessageFlags.None;
        private PermanentFlagsCode? _permanent;

        public ValueTask<bool> HandleAsync(UntaggedResponse response, CancellationToken cancellationToken)
        {
            switch (response)
            {
                case ExistsResponse exists: _exists = exists.Count; break;
                case RecentResponse: break;
                case FlagsResponse flags: _flags = flags.Flags; break;
                case VanishedResponse { Earlier: true } vanished: _vanished.Add(vanished.Uids); break;
                case FetchResponse fetch: _changed.Add(fetch.Data); break;
                case UntaggedConditionResponse { Condition: ResponseCondition.Ok } ok:
                    switch (ok.Code)
                    {
                        case UidValidityCode v: _uidValidity = v.UidValidity; break;
                        case UidNextCode n: _uidNext = n.UidNext; break;
                        case HighestModSeqCode h: _highestModSeq = h.HighestModSeq; break;
                        case PermanentFlagsCode p: _permanent = p; break;
                        case { Kind: ResponseCodeKind.NoModSeq }: _noModSeq = true; break;
                        // [CLOSED] ends the previous mailbox; [UNSEEN] and plain text need nothing.
                        case { Kind: ResponseCodeKind.Closed or ResponseCodeKind.Unseen }: break;
                        case null: break;
                        default: return ValueTask.FromResult(false);
                    }
                    break;
                default:
                    return ValueTask.FromResult(false);
            }
            return ValueTask.FromResult(true);
        }

        public SelectedMailbox Build(bool readOnly) => new()
        {
            Name = name,
            ReadOnly = readOnly,
            Exists = _exists,
            UidValidity = _uidValidity,
            UidNext = _uidNext,
            HighestModSeq = _noModSeq ? null : _highestModSeq,
            NoModSeq = _noModSeq,
            Flags = _flags,
            PermanentFlags = _permanent?.Flags ?? _flags,
            AllowsNewKeywords = _permanent?.AllowsNewKeywords ?? false,
            Vanished = _vanished.Count == 0 ? UidSet.Empty : UidSet.FromUids(_vanished.SelectMany(v => v.Expand())),
            Changed = _changed,
        };

        public void DisposeChanged()
        {
            foreach (var data in _changed) data.Dispose();
        }
    }
}
