using System.Diagnostics;
using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// Runs a login's PasswordCommand (as isync's PassCmd): `/bin/sh -c COMMAND`, whose first line of output is the
/// password or OAuth access token. Run at each login, so a token helper can hand out a fresh token every time.
/// Its output is never logged; its errors are told in one line that names the setting.
/// </summary>
public static class PasswordCommand
{
    /// <summary>The most of a failing command's stderr that is shown: enough for its reason, not a dump.</summary>
    private const int MaxReasonLength = 200;

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
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(endpoint.PasswordCommandTimeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            // A helper that hangs (an OAuth server that does not answer) may answer next time: retried with the reconnect backoff.
            throw new ImapAuthenticationException($"{setting} gave no answer within {endpoint.PasswordCommandTimeout.TotalSeconds:0} s for the {role}; it was stopped, and is run again at the next attempt",
                new ResponseCode(ResponseCodeKind.Unavailable, "UNAVAILABLE"));
        }
        var reason = FirstLine(await errors.ConfigureAwait(false));
        if (process.ExitCode is 126 or 127)
            throw new ImapAuthenticationException($"{setting} could not be run for the {role} (exit {process.ExitCode}{(reason.Length > 0 ? $": {reason}" : "")}); check the command and its path");
        if (process.ExitCode != 0)
            throw new ImapAuthenticationException($"{setting} failed for the {role} (exit {process.ExitCode}{(reason.Length > 0 ? $": {reason}" : "")}); it is run again at the next attempt",
                new ResponseCode(ResponseCodeKind.Unavailable, "UNAVAILABLE"));
        var secret = (await output.ConfigureAwait(false)).Split('\n', 2)[0].TrimEnd('\r');
        if (secret.Length == 0)
            throw new ImapAuthenticationException($"{setting} printed nothing for the {role}; it must print the password or token on its first line");
        return secret;
    }

    private static string FirstLine(string text)
    {
        var line = text.Trim().Split('\n', 2)[0].Trim();
        return line.Length <= MaxReasonLength ? line : line[..MaxReasonLength] + "...";
    }
}
