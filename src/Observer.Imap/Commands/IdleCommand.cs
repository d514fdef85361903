namespace Observer.Imap;

internal static class IdleCommand
{
    public static async Task IdleAsync(ImapClient client, CancellationToken done, CancellationToken cancellationToken)
    {
        if (!client.Capabilities.Idle) throw new NotSupportedException($"{client.Options.Host} has no IDLE");
        var connection = client.Connection;
        var time = client.Options.TimeProvider;
        while (!done.IsCancellationRequested)
        {
            var result = await connection.ExecuteAsync(client.Command("IDLE"), null, cancellationToken, async (pending, first, ct) =>
            {
                if (await first.ConfigureAwait(false) is null) return;
                pending.IsIdling = true;
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(done, ct);
                try
                {
                    await Task.Delay(client.Options.IdleRestartInterval, time, wake.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // done was signalled: leave IDLE normally.
                }
                // Silence while idling was expected; the wait for DONE's answer starts now.
                connection.EndIdling(pending);
                await connection.WriteLineAsync("DONE", "DONE", ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
            result.EnsureOk("IDLE");
        }
    }
}
