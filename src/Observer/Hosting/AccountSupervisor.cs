using Microsoft.Extensions.Logging;
using Observer.Configuration;

namespace Observer.Hosting;

/// <summary>
/// The accounts a service of several replicates now. A reload starts the accounts added, stops those removed
/// (their state is kept) and restarts those whose logins changed; the others are not touched.
/// </summary>
internal sealed class AccountSupervisor(AccountEngines engines, Func<AccountEngine, CancellationToken, Task> run, Action<Exception> failed,
    ILogger logger, CancellationToken stopping)
{
    private sealed record Running(AccountOptions Settings, CancellationTokenSource Stop, Task Task);

    private readonly Dictionary<string, Running> _running = new(StringComparer.Ordinal);
    private bool _started;

    public IReadOnlyCollection<string> Names => _running.Keys;

    public async Task ApplyAsync(IReadOnlyList<AccountOptions> wanted)
    {
        var byName = wanted.ToDictionary(a => a.Name, StringComparer.Ordinal);
        var removed = _running.Keys.Where(n => !byName.ContainsKey(n)).ToList();
        var changed = wanted.Where(a => _running.TryGetValue(a.Name, out var r) && !r.Settings.SameAs(a)).Select(a => a.Name).ToList();
        // Stopped together: each may take the shutdown grace to finish its work in flight.
        await Task.WhenAll(removed.Concat(changed).Select(StopAsync)).ConfigureAwait(false);
        foreach (var name in removed)
            logger.LogInformation("account {Account} is no longer in the settings: stopped; its state is kept (observer forget {Account} removes it)", name, name);
        foreach (var account in wanted.Where(a => !_running.ContainsKey(a.Name)))
        {
            if (_started)
                logger.LogInformation(changed.Contains(account.Name) ? "account {Account}: its logins changed; started again" : "account {Account} added: replicating it", account.Name);
            Start(account);
        }
        _started = true;
    }

    public Task StopAllAsync() => Task.WhenAll(_running.Keys.ToList().Select(StopAsync));

    private void Start(AccountOptions account)
    {
        var stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var engine = engines.Build(account);
        _running[account.Name] = new Running(account, stop, Task.Run(async () =>
        {
            try
            {
                await run(engine, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Stopped on request.
            }
            catch (Exception ex)
            {
                failed(ex);
            }
        }, CancellationToken.None));
    }

    private async Task StopAsync(string name)
    {
        var running = _running[name];
        _running.Remove(name);
        await running.Stop.CancelAsync().ConfigureAwait(false);
        await running.Task.ConfigureAwait(false);
        running.Stop.Dispose();
    }
}
