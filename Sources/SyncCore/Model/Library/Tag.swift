import Foundation

public enum Tag {
    /// Tags are compared after NFC normalisation, trimming and Latin case folding, so `Gaza`,
    /// ` gaza ` and `GAZA` are one tag everywhere.
    public static func normalize(_ raw: String) -> String {
        raw.nfc.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }
}
