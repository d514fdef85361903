namespace Observer.Replication;

internal static class TaskSettling
{
    /// <summary>
    /// Ends when <paramref name="task"/> ends, however it ends, and observes its failure: for work that must be over before
    /// something else goes on (a command on the same connection, the end of a pass), where another error is the one to report.
    /// </summary>
    public static Task SettledAsync(this Task task) =>
        task.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
