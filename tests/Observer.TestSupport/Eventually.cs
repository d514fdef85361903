namespace Observer.TestSupport;

public static class Eventually
{
    /// <summary>Polls until <paramref name="condition"/> holds; on timeout, throws with the last <paramref name="describe"/>.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, TimeSpan within, Func<Task<string>>? describe = null, TimeSpan? every = null)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            if (await condition()) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"condition not met within {within.TotalSeconds:0} s{(describe is null ? "" : ": " + await describe())}");
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>
    /// Waits until the replica is an exact copy of the primary. Given the <paramref name="observer"/> at work, a
    /// timeout carries the end of its log: a run that did not converge in CI is otherwise hard to explain.
    /// </summary>
    public static async Task ConvergesAsync(PairAccounts accounts, TimeSpan within, bool compareSubscriptions = true, ObserverProcess? observer = null)
    {
        List<string> last = [];
        await HoldsAsync(async () =>
        {
            try
            {
                return (last = await accounts.DifferencesAsync(compareSubscriptions)).Count == 0;
            }
            catch (Observer.Mail.ImapCommandException ex) when (AccountSnapshot.IsGone(ex))
            {
                // Observer deleted or renamed a folder between our LIST and EXAMINE: it is still at work.
                last = [ex.Message];
                return false;
            }
            catch (Exception ex) when (ex is Observer.Mail.ImapProtocolException or Observer.Mail.ImapConnectionException
                && (ex.Message.Contains("deleted under us", StringComparison.OrdinalIgnoreCase)
                    || ex.ToString().Contains("unexpectedly disconnected", StringComparison.OrdinalIgnoreCase)))
            {
                // Dovecot closes a session whose selected folder another session deletes ("BYE Mailbox was
                // deleted under us"; MailKit may report only the disconnect when it reads the BYE in the middle
                // of a FETCH): Observer deleted the folder while we read it, and is still at work.
                last = [ex.Message];
                return false;
            }
        }, within,
            () => Task.FromResult(string.Join("; ", last.Take(10)) + LogTail(observer)), TimeSpan.FromMilliseconds(300));
    }

    private static string LogTail(ObserverProcess? observer, int lines = 60)
    {
        if (observer is null) return "";
        var log = observer.Errors.TrimEnd().Split('\n');
        var tail = log[^Math.Min(lines, log.Length)..];
        return $"\nthe last {tail.Length} lines of observer's log:\n" + string.Join('\n', tail);
    }
}
