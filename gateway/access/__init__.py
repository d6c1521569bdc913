"""Who may read which Annex XIII point of a passport: the access table (audiences, the
points each may read, which roles reach which audience), versioned as data like the
cross-border policy table, because the implementing act that defines legitimate interest
(Art. 77(9)) is not adopted yet."""
