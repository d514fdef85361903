using System.Diagnostics;
using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// Runs a login's PasswordCommand (as isync's PassCmd): `/bin/sh -c COMMAND`, whose first line of output is the
/// password or OAuth access token. Run at each login, so a token helper can hand out a fresh token every time.
/// Neither its output nor its stderr is ever logged or stored (a helper run with `set -x` or `curl -v` writes secrets
/// there); its failures are told in one line that names the setting and the exit code.
/// </summary>
public static class PasswordCommand
{
    public static async Task<string> RunAsync(EndpointOptions endpoint, string role, CancellationToken cancellationToken)
    {
        var setting = endpoint.SettingsPrefix(role) + "PasswordCommand";
        var start = new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", endpoint.PasswordCommand! },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = endpoint.SettingsDirectory ?? Environment.CurrentDirectory,
        };
        // What a helper serving several accounts needs to know which token to give.
        start.Environment["OBSERVER_USERNAME"] = endpoint.Username;
        start.Environment["OBSERVER_HOST"] = endpoint.Host;
        start.Environment["OBSERVER_ROLE"] = role;
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new ImapAuthenticationException($"{setting}: cannot run /bin/sh: {ex.Message}");
        }
        process.StandardInput.Close();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(endpoint.PasswordCommandTimeout);
        var output = process.StandardOutput.ReadToEndAsync(deadline.Token);
        // Read, so that a helper writing much there never blocks on a full pipe; never shown.
        var errors = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            // A helper that leaves a child holding its output open (`daemon &`) ends its reads only at the deadline.
            await Task.WhenAll(process.WaitForExitAsync(deadline.Token), output, errors).WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            // A helper that hangs (an OAuth server that does not answer) may answer next time: retried with the reconnect backoff.
            throw new ImapAuthenticationException($"{setting} gave no answer within {endpoint.PasswordCommandTimeout.TotalSeconds:0} s for the {role}; it was stopped, and is run again at the next attempt",
                new ResponseCode(ResponseCodeKind.Unavailable, "UNAVAILABLE"));
        }
        if (process.ExitCode is 126 or 127)
            throw new ImapAuthenticationException($"{setting} could not be run for the {role} (exit {process.ExitCode}); check the command and its path " +
                                                  "(run it by hand as the user observer runs as to see why)");
        if (process.ExitCode != 0)
            throw new ImapAuthenticationException($"{setting} failed for the {role} (exit {process.ExitCode}); it is run again at the next attempt " +
                                                  "(its messages are not shown, as they may hold secrets: run it by hand as the user observer runs as to see why)",
                new ResponseCode(ResponseCodeKind.Unavailable, "UNAVAILABLE"));
        var secret = (await output.ConfigureAwait(false)).Split('\n', 2)[0].TrimEnd('\r');
        if (secret.Length == 0)
            throw new ImapAuthenticationException($"{setting} printed nothing for the {role}; it must print the password or token on its first line");
        return secret;
    }
}
