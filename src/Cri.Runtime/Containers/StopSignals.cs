using System.Globalization;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Containers;

/// <summary>Which signal StopContainer sends first: ContainerConfig.stop_signal, else the image's StopSignal, else SIGTERM.</summary>
public static class StopSignals
{
    public const int SigTerm = 15;
    private const int SigRtMin = 34;
    private const int SigRtMax = 64;

    private static readonly Dictionary<string, int> Numbers = new(StringComparer.Ordinal)
    {
        ["HUP"] = 1, ["INT"] = 2, ["QUIT"] = 3, ["ILL"] = 4, ["TRAP"] = 5, ["ABRT"] = 6, ["IOT"] = 6, ["BUS"] = 7,
        ["FPE"] = 8, ["KILL"] = 9, ["USR1"] = 10, ["SEGV"] = 11, ["USR2"] = 12, ["PIPE"] = 13, ["ALRM"] = 14,
        ["TERM"] = 15, ["STKFLT"] = 16, ["CHLD"] = 17, ["CLD"] = 17, ["CONT"] = 18, ["STOP"] = 19, ["TSTP"] = 20,
        ["TTIN"] = 21, ["TTOU"] = 22, ["URG"] = 23, ["XCPU"] = 24, ["XFSZ"] = 25, ["VTALRM"] = 26, ["PROF"] = 27,
        ["WINCH"] = 28, ["IO"] = 29, ["POLL"] = 29, ["PWR"] = 30, ["SYS"] = 31,
    };

    public static int Choose(Signal configSignal, string? imageStopSignal)
    {
        if (configSignal != Signal.RuntimeDefault) return FromCri(configSignal);
        if (!string.IsNullOrWhiteSpace(imageStopSignal))
        {
            return Parse(imageStopSignal)
                ?? throw RuntimeException.InvalidField("image config StopSignal", $"unknown signal \"{imageStopSignal}\"");
        }
        return SigTerm;
    }

    /// <summary>The CRI Signal enum names signals by their Linux names; map through the name table.</summary>
    public static int FromCri(Signal signal)
    {
        var name = signal.ToString();
        // Enum member names are C#-ified (SIGNAL_SIGRTMINPLUS1 → Sigrtminplus1); parse the original-style name.
        var upper = name.ToUpperInvariant();
        if (upper.StartsWith("SIG", StringComparison.Ordinal)) upper = upper[3..];
        if (upper.StartsWith("RTMINPLUS", StringComparison.Ordinal)) return SigRtMin + int.Parse(upper[9..], CultureInfo.InvariantCulture);
        if (upper.StartsWith("RTMAXMINUS", StringComparison.Ordinal)) return SigRtMax - int.Parse(upper[10..], CultureInfo.InvariantCulture);
        if (upper == "RTMIN") return SigRtMin;
        if (upper == "RTMAX") return SigRtMax;
        return Numbers.TryGetValue(upper, out var number)
            ? number
            : throw RuntimeException.InvalidField("config.stop_signal", $"unsupported signal {signal}");
    }

    /// <summary>Parses "SIGTERM", "TERM", "15", "SIGRTMIN+3" (the forms OCI image configs use).</summary>
    public static int? Parse(string text)
    {
        var s = text.Trim().ToUpperInvariant();
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            return number is > 0 and <= SigRtMax ? number : null;
        if (s.StartsWith("SIG", StringComparison.Ordinal)) s = s[3..];
        if (s.StartsWith("RTMIN", StringComparison.Ordinal)) return Offset(s[5..], SigRtMin, +1);
        if (s.StartsWith("RTMAX", StringComparison.Ordinal)) return Offset(s[5..], SigRtMax, -1);
        return Numbers.TryGetValue(s, out var value) ? value : null;
    }

    private static int? Offset(string rest, int baseSignal, int direction)
    {
        if (rest.Length == 0) return baseSignal;
        if (rest.Length < 2 || rest[0] != (direction > 0 ? '+' : '-')) return null;
        if (!int.TryParse(rest[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var offset)) return null;
        var result = baseSignal + direction * offset;
        return result is >= SigRtMin and <= SigRtMax ? result : null;
    }
}
