/// Rule 3: nothing deletes a colleague's concurrent work. Trashing an article is a
/// last-writer-wins write of its `trashed` field that carries the author's version vector. Work
/// on the article (an edit, a tag, an annotation) that the trashing author had not seen was done
/// concurrently: it is kept, and the article is flagged as a conflict.
public enum TrashRule {
    /// Ops that count as someone's work on an article.
    public static func isWork(_ op: Op) -> Bool {
        switch op.body {
        case .assign(let entity, let writes):
            if entity.kind == .annotation { return true }
            return entity.kind == .article && writes.contains { !userStateFields.contains($0.field) }
        case .setAdd(let entity, _, _): return entity.kind == .article
        case .setRemove, .unknown: return false
        }
    }

    /// Per-reader state that is not anybody's work on the text.
    public static let userStateFields: Set<String> = ["trashed", "read", "starred"]

    /// The work ops (of `candidates`) that the trash write did not see: each is a reason to flag
    /// the article. Empty means the trash was made knowingly over everything.
    public static func unseenWork(trashContext: VersionVector, trashID: OpID, candidates: [Op]) -> [Op] {
        candidates.filter { $0.id != trashID && isWork($0) && !trashContext.contains($0.id) }
    }
}
