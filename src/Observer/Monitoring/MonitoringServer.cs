using System.Net;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Observer.Cli;
using Observer.Configuration;
using Observer.Hosting;

namespace Observer.Monitoring;

/// <summary>
/// The loopback endpoint of `observer run` at Http:Url: /metrics (Prometheus), /healthz and the status page at /.
/// Each request reads the state read-only, as `observer status` does, so it never waits on replication. It only
/// reads: nothing here can change what is replicated.
/// </summary>
public sealed class MonitoringServer(ObserverOptions options, SettingsReloader reloader, MetricsExporter metrics, TimeProvider time, ILogger<MonitoringServer> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var listener = new HttpListener();
        listener.Prefixes.Add(Prefix(options.Http.Url!));
        try
        {
            listener.Start();
        }
        catch (HttpListenerException ex)
        {
            // Replication matters more than its dashboard: it goes on, and the log says what to fix.
            logger.LogError("Http:Url {Url}: cannot listen ({Reason}); replication goes on without /metrics, /healthz and the status page. Choose a free port",
                options.Http.Url, ex.Message);
            return;
        }
        logger.LogInformation("serving /metrics, /healthz and the status page at {Url}", options.Http.Url);
        await using var stop = stoppingToken.Register(listener.Stop);
        // A few answers at a time: a client that stops reading holds up only its own, and the state's readers stay few.
        var answering = new SemaphoreSlim(MaxAnswersAtOnce);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
                await answering.WaitAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException)
            {
                // A request that broke before it was read: the next one is answered as usual.
                logger.LogDebug("monitoring endpoint: {Reason}", ex.Message);
                continue;
            }
            _ = Task.Run(async () =>
            {
                try
                {
                    await AnswerAsync(context, stoppingToken).ConfigureAwait(false);
                }
                finally
                {
                    answering.Release();
                }
            }, CancellationToken.None);
        }
    }

    private const int MaxAnswersAtOnce = 4;

    private async Task AnswerAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        var response = context.Response;
        try
        {
            response.Headers["Cache-Control"] = "no-store";
            if (context.Request.HttpMethod is not ("GET" or "HEAD"))
            {
                response.Headers["Allow"] = "GET, HEAD";
                await TextAsync(response, 405, "text/plain", "only GET and HEAD\n");
                return;
            }
            var current = reloader.Current ?? options;
            StatusSnapshot? Snapshot() => StatusSnapshot.TryRead(current, current.Units, time);
            switch (context.Request.Url?.AbsolutePath)
            {
                case "/metrics":
                    response.StatusCode = 200;
                    response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                    using (var body = new MemoryStream())
                    {
                        await metrics.WriteAsync(Snapshot(), body, cancellationToken).ConfigureAwait(false);
                        await WriteAsync(response, body.ToArray(), context.Request.HttpMethod).ConfigureAwait(false);
                    }
                    return;
                case "/healthz":
                    var (healthy, text) = HealthCheck.Evaluate(Snapshot());
                    await TextAsync(response, healthy ? 200 : 503, "text/plain; charset=utf-8", text, context.Request.HttpMethod);
                    return;
                case "/":
                    response.Headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'";
                    await TextAsync(response, 200, "text/html; charset=utf-8", StatusPage.Render(Snapshot(), ObserverProgram.VersionText), context.Request.HttpMethod);
                    return;
                default:
                    await TextAsync(response, 404, "text/plain", "not found: this endpoint serves /, /metrics and /healthz\n");
                    return;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("{Path}: {Reason}", context.Request.Url?.AbsolutePath, ex.Message.ReplaceLineEndings(" "));
            try
            {
                await TextAsync(response, 500, "text/plain", "error: " + ex.Message.ReplaceLineEndings(" ") + "\n");
            }
            catch (Exception)
            {
                // The client is gone, or the answer had begun: nothing more to say to it.
            }
        }
        finally
        {
            response.Close();
        }
    }

    private static Task TextAsync(HttpListenerResponse response, int status, string type, string text, string method = "GET")
    {
        response.StatusCode = status;
        response.ContentType = type;
        return WriteAsync(response, Encoding.UTF8.GetBytes(text), method);
    }

    private static async Task WriteAsync(HttpListenerResponse response, byte[] body, string method)
    {
        response.ContentLength64 = body.Length;
        if (method != "HEAD") await response.OutputStream.WriteAsync(body).ConfigureAwait(false);
    }

    /// <summary>HttpListener wants a prefix that ends in a slash.</summary>
    private static string Prefix(string url) => url.EndsWith('/') ? url : url + "/";
}
