/// Rule 3: nothing deletes a colleague's concurrent work. Trashing an article is a
/// last-writer-wins write of its `trashed` field that carries the author's version vector. Work
/// on the article (an edit, a tag, an annotation) that the trashing author had not seen was done
/// concurrently: it is kept, and the article is flagged as a conflict.
public enum TrashRule {
    /// Whether an op of a known kind is someone's work on an article: an edit of an article field
    /// other than per-reader state, a tag added, any write to an annotation. Decided when the op is
    /// made and carried in its envelope (``Op/countsAsWork``); never recomputed by a reader, which
    /// may not know the kind.
    public static func isWork(_ body: OpBody) -> Bool {
        switch body {
        case .assign(let entity, let writes):
            if entity.kind == .annotation { return true }
            // A field this version does not know counts as content (work), as its writer meant.
            return entity.kind == .article && writes.contains { Fields.named($0.field, of: .article)?.countsAsWork ?? true }
        case .setAdd(let entity, _, _): return entity.kind == .article
        case .text(let entity, _, _): return entity.kind == .article || entity.kind == .annotation
        case .setRemove, .unknown: return false
        }
    }

    /// The work ops (ids of the ops filed under the article with ``Op/countsAsWork``) that the
    /// trash write did not see: each is a reason to flag the article. Empty means the trash was
    /// made knowingly over everything.
    public static func unseenWork(trashContext: VersionVector, trashID: OpID, work: [OpID]) -> [OpID] {
        work.filter { $0 != trashID && !trashContext.contains($0) }
    }
}
