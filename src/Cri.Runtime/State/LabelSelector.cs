using Google.Protobuf.Collections;

namespace Crisp.Runtime.State;

/// <summary>CRI label selectors: every selector key must be present with exactly the selector's value.</summary>
public static class LabelSelector
{
    public static bool Matches(IReadOnlyDictionary<string, string> selector, MapField<string, string> labels)
    {
        foreach (var (key, value) in selector)
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value) return false;
        }
        return true;
    }

    public static bool Matches(MapField<string, string>? selector, MapField<string, string> labels) =>
        selector is null || Matches((IReadOnlyDictionary<string, string>)selector, labels);
}
