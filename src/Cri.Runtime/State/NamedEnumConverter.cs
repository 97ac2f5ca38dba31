using System.Text.Json.Serialization;

namespace Crisp.Runtime.State;

/// <summary>
/// Record phases are written as names and only names are read back: an integer is damage, not an older format.
/// </summary>
internal sealed class NamedEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(namingPolicy: null, allowIntegerValues: false)
    where TEnum : struct, Enum;
