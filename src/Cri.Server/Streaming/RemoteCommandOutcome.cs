using System.Text;
using System.Text.Json.Nodes;

namespace Crisp.Server.Streaming;

/// <summary>How an exec or attach ended, and how that is written on the protocol's error channel.</summary>
public sealed record RemoteCommandOutcome(int? ExitCode, string? Error)
{
    public static RemoteCommandOutcome Exited(int code) => new(code, null);
    public static RemoteCommandOutcome Failed(string message) => new(null, message);

    public bool Succeeded => ExitCode == 0 || (ExitCode is null && Error is null);

    /// <summary>
    /// v4+: a metav1.Status; a non-zero exit is Failure/NonZeroExitCode with the code as an ExitCode cause (what
    /// client-go turns back into the exit code kubectl and crictl return). Older versions: the message, or nothing.
    /// </summary>
    public byte[] Encode(string protocolVersion, IReadOnlyList<string> command)
    {
        if (!RemoteCommandProtocol.UsesStatusJson(protocolVersion))
            return Succeeded ? [] : Encoding.UTF8.GetBytes(Message(command));
        var status = new JsonObject { ["metadata"] = new JsonObject() };
        if (Succeeded)
        {
            status["status"] = "Success";
        }
        else if (ExitCode is { } code)
        {
            status["status"] = "Failure";
            status["message"] = Message(command);
            status["reason"] = "NonZeroExitCode";
            status["details"] = new JsonObject
            {
                ["causes"] = new JsonArray(new JsonObject { ["reason"] = "ExitCode", ["message"] = code.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
            };
        }
        else
        {
            status["status"] = "Failure";
            status["message"] = Error;
            status["reason"] = "InternalError";
        }
        return Encoding.UTF8.GetBytes(status.ToJsonString());
    }

    private string Message(IReadOnlyList<string> command) => ExitCode is { } code
        ? $"command terminated with non-zero exit code: error executing command [{string.Join(" ", command)}], exit code {code}"
        : Error ?? "";
}
