using System.Text.Json.Serialization;

namespace Crisp.Runtime.Oci;

/// <summary>Source-generated (reflection-free) JSON for config.json; nulls omitted as the spec's omitempty does.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OciSpec))]
[JsonSerializable(typeof(OciSeccomp))]
[JsonSerializable(typeof(OciResources))]
public sealed partial class OciJsonContext : JsonSerializerContext
{
    private static OciJsonContext? indented;

    /// <summary>Human-readable variant for verbose status output.</summary>
    public static OciJsonContext Indented => indented ??= new OciJsonContext(
        new System.Text.Json.JsonSerializerOptions(Default.Options) { WriteIndented = true });
}
